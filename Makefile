# veil: the commands of docs/cli.md. `make install` builds .venv/ in the checkout; everything else runs from it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= $(HOME)/.cache/veil/covers
# Where `--release` and `--card` write: this checkout's package, so that released weights and measured cards ship
# (outside a checkout they default to the user's model folder, $VEIL_WEIGHTS or ~/.cache/veil/weights).
SHIP   ?= src/veil

.PHONY: install demo test data train-spread eval-hide bench-hide train-qr train-qr-baseline train-qr-robust train-image eval-qr eval-robust eval-image eval-steganalysis train-steganalysers report eval-disguise train-qrnet eval-qrnet bench bench-image bench-analyze bench-serve bench-batch bench-distributed bench-data clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0   # the local CPU wheel; a looser pin pulls CUDA
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(BIN)/veil demo

test: install
	$(BIN)/python -m pytest -q

# The photo corpus of shared/DATA.md (Debian packages need root), cached outside the repo.
data: install
	bash scripts/get_data.sh
	$(BIN)/python -m pip install --quiet -e ".[train]"
	VEIL_DATA=$(DATA) $(BIN)/veil data prepare

# The spread-message model behind `veil hide` / `veil reveal` (spread.default); re-running resumes. The card gives
# the measured wall time.
train-spread: install
	VEIL_DATA=$(DATA) $(BIN)/veil train spread --config spread.default --out runs/spread.default --resume --release $(SHIP)

# Held-out photos at 256 px and native size through the attack matrix (crop and rotation included) and 2,000 clean
# crops for false positives -> results/hide_spread.default.json/.png/_figure.png and the card; then veil beside
# RivaGAN and DWT-DCT-SVD on 3 crops of 256 px per photo, same images, same attacks, same run (RivaGAN takes about
# half a second per read) -> results/hide_peers.json/.png; then the strength sweep (fidelity against robustness).
eval-hide: install
	$(BIN)/python -m pip install --quiet -e ".[peers]"
	$(BIN)/veil eval hide --images $(DATA)/val $(DATA)/val_sharp --card $(SHIP)
	$(BIN)/veil eval hide --images $(DATA)/val $(DATA)/val_sharp --crops 3 --native 0 --clean 0 --peers --out results/hide_peers.json
	for s in 0.5 0.7 1.4; do $(BIN)/veil eval hide --images $(DATA)/val $(DATA)/val_sharp --strength $$s --crops 3 --native 0 --clean 0 --attacks jpeg blur resize blur+jpeg || exit 1; done

bench-hide: install
	$(BIN)/veil bench hide

# Reproduce the shipped QR weights on a 2-core CPU; re-running resumes. Stage 1 (qr_densenet.paper,
# 50 min) is the seed-faithful model; stage 2 (qr_densenet.quiet, 40 min) fine-tunes it without dropout
# and with an RMSE cover term; stage 3 (qr_densenet.small, 8 min) is its companion for 64-127 px covers.
# The baseline (10 min) and the robust model have their own targets.
train-qr: install
	VEIL_DATA=$(DATA) $(BIN)/veil train qr --config qr_densenet.paper --out runs/qr_densenet.paper --resume --release $(SHIP)
	VEIL_DATA=$(DATA) $(BIN)/veil train qr --config qr_densenet.quiet --out runs/qr_densenet.quiet --resume --release $(SHIP)
	VEIL_DATA=$(DATA) $(BIN)/veil train qr --config qr_densenet.small --out runs/qr_densenet.small --resume --release $(SHIP)

train-qr-baseline: install
	VEIL_DATA=$(DATA) $(BIN)/veil train qr --config qr_baseline.default --out runs/qr_baseline.default --resume --release $(SHIP)

# About 150 minutes on a 2-core CPU, from the released qr_densenet.quiet, resumable across sessions: stage 1
# (smooth luma residual, 22 min), stage 2 (lower blur, 27 min) and stage 3 (lower learning rate, 49 min) kept in
# runs/, then stage 4 (attacks narrowed to the targets' neighbourhood, 52 min; released, gain calibrated after
# the target attacks); re-running resumes.
train-qr-robust: install
	VEIL_DATA=$(DATA) $(BIN)/veil train qr --config qr_densenet.robust_stage1 --out runs/qr_densenet.robust_stage1 --resume
	VEIL_DATA=$(DATA) $(BIN)/veil train qr --config qr_densenet.robust_stage2 --out runs/qr_densenet.robust_stage2 --resume
	VEIL_DATA=$(DATA) $(BIN)/veil train qr --config qr_densenet.robust_stage3 --out runs/qr_densenet.robust_stage3 --resume
	VEIL_DATA=$(DATA) $(BIN)/veil train qr --config qr_densenet.robust --out runs/qr_densenet.robust --resume --release $(SHIP)

# Image into image (seeds 003 and 002) on a 2-core CPU; re-running resumes. stegnet: stage 1 (77 min, kept in
# runs/) then stage 2 (6,000 more steps, 152 min measured across three resumed runs; released as stegnet.default);
# pixinpix: stage 1 (~19 min, kept in runs/) then stage 2 (~6 min, released).
train-image: install
	VEIL_DATA=$(DATA) $(BIN)/veil train image --config stegnet.stage1 --out runs/stegnet.stage1 --resume
	VEIL_DATA=$(DATA) $(BIN)/veil train image --config stegnet.default --out runs/stegnet.default --resume --release $(SHIP)
	VEIL_DATA=$(DATA) $(BIN)/veil train image --config pixinpix.stage1 --out runs/pixinpix.stage1 --resume
	VEIL_DATA=$(DATA) $(BIN)/veil train image --config pixinpix.default --out runs/pixinpix.default --resume --release $(SHIP)
	VEIL_DATA=$(DATA) OMP_NUM_THREADS=1 $(BIN)/veil train image --config pixinpix.quiet --out runs/pixinpix.quiet --resume --release $(SHIP)
	VEIL_DATA=$(DATA) OMP_NUM_THREADS=1 $(BIN)/veil train image --config stegnet.quiet --out runs/stegnet.quiet --resume --release $(SHIP)

# Neural QR reader (seed 001), 1 torch thread each; re-running resumes. qrnet.default (ours, fresh degraded codes)
# then qrnet.paper (the paper's network and recipe, narrowed); see the cards for the measured wall times. Then the
# presence threshold under which `veil qrnet read` answers "no code" (1 min), into the released cards.
train-qrnet: install
	$(BIN)/veil qrnet train --model qrnet --out runs/qrnet.default --resume --release $(SHIP) --threads 1
	$(BIN)/veil qrnet train --model qrnet.paper --out runs/qrnet.paper --resume --release $(SHIP) --threads 1
	VEIL_DATA=$(DATA) $(BIN)/veil qrnet calibrate --model qrnet --threads 1 --card $(SHIP)
	$(BIN)/veil qrnet calibrate --model qrnet.paper --card $(SHIP)

# 10,000 fresh held-out codes, the noise/blur sweep against zxing-cpp, reveal --qr-out images, read throughput,
# "no code" on held-out photos and generated non-codes -> results/qrnet.json, results/qrnet_robustness.png and
# the cards' metrics.
eval-qrnet: install
	VEIL_DATA=$(DATA) $(BIN)/veil qrnet eval --n 10000 --threads 1 --card $(SHIP)

eval-qr: install
	$(BIN)/veil eval qr --images $(DATA)/val $(DATA)/val_sharp --model qr_densenet --model qr_densenet.small --model qr_densenet.robust --model qr_densenet.paper --model qr_baseline --card $(SHIP)

# Robustness matrix of the robust model (the default) and of qr_densenet (one plot, a panel each).
eval-robust: install
	$(BIN)/veil eval qr --images $(DATA)/val $(DATA)/val_sharp --attacks all --model qr_densenet.robust --model qr_densenet

# Seed 003's metrics at 32, 64 (the paper's size) and 256 px, then seed 002's digits in 32x32 photo crops.
eval-image: install
	$(BIN)/veil eval image --images $(DATA)/val --model stegnet --model pixinpix --model lsb3 --size 32 --size 64 --size 256 --card $(SHIP)
	$(BIN)/veil eval image --images $(DATA)/val --model pixinpix --model stegnet --model lsb3 --digits --card $(SHIP)
	$(BIN)/veil eval image --images $(DATA)/val --model lsb1 --model lsb2 --model lsb4 --size 64 --card $(SHIP) --no-figures
	$(BIN)/veil eval image --images $(DATA)/val --model codec --size 256
	$(BIN)/veil eval image --images $(DATA)/val --model pixinpix.quiet --size 64 --size 256 --card $(SHIP)
	$(BIN)/veil eval image --images $(DATA)/val --model stegnet.quiet --size 64 --size 256 --card $(SHIP)

# Classical detectors (and the learned steganalysers) on 72 crops of 256 px from the held-out photos.
STEGA := $(BIN)/veil eval steganalysis --clean $(DATA)/val --crop 256 --per-image 8
# The same on 168 crops: the held-out and the sharp held-out photos together.
STEGA2 := $(BIN)/veil eval steganalysis --clean $(DATA)/val $(DATA)/val_sharp --crop 256 --per-image 8
eval-steganalysis: install
	$(STEGA) --lsb-rate 1.0
	$(STEGA) --lsb-rate 0.1
	$(STEGA) --model lsb3
	$(STEGA) --model qr_densenet --learned xunet.qr_densenet
	$(STEGA) --model qr_densenet.robust --learned xunet.qr_densenet_robust
	$(STEGA) --model stegnet --learned xunet.stegnet
	$(STEGA) --model pixinpix --learned xunet.pixinpix
	$(STEGA) --model codec --learned xunet.codec --learned xunet.stealth --learned xunet.stegnet
	$(STEGA) --model stealth --learned xunet.codec --learned xunet.stealth --learned xunet.stegnet
	$(STEGA) --model stealth:0.1 --learned xunet.codec --learned xunet.stealth --learned xunet.stegnet
	$(STEGA) --model stealth:0.4 --learned xunet.codec --learned xunet.stealth --learned xunet.stegnet
	$(STEGA2) --model stegnet --name stegnet.default_168 --learned xunet.stegnet
	$(STEGA2) --model pixinpix.quiet --learned xunet.pixinpix --learned xunet.pixinpix_quiet
	$(STEGA2) --model stegnet.quiet --learned xunet.stegnet --learned xunet.stegnet_quiet

# One xunet per veil model (~15 min each on 2 cores: pairs, 2,000 steps, held-out AUC); re-running resumes.
train-steganalysers: install
	for m in qr_densenet qr_densenet.robust pixinpix stegnet codec stealth pixinpix.quiet stegnet.quiet; do \
	  VEIL_DATA=$(DATA) $(BIN)/veil steganalyser train --model $$m --threads 1 --resume --release $(SHIP) || exit 1; done

report: install
	$(BIN)/veil report --out results/report.html

# Seed 004's image disguise (Figs. 6-9): 6 generators at 256x256 grey, every disguise image through every one
# -> results/disguise.json and .png (about 15 minutes on one thread of a 2-core CPU).
eval-disguise: install
	$(BIN)/python -m pip install --quiet -e ".[train]"
	$(BIN)/veil eval disguise --threads 1

bench: install
	$(BIN)/veil bench hide
	$(BIN)/veil bench qr --model qr_densenet.robust
	$(BIN)/veil bench qr --model qr_densenet --out results/bench_qr_qr_densenet.quiet.json

bench-analyze: install
	$(BIN)/veil bench analyze

# veil serve under load on 127.0.0.1 (1, 4, 16 clients; a fixed count under a time limit) and a PNG bomb.
bench-serve: install
	$(BIN)/python scripts/bench_serve.py

# veil qr reveal over a folder of 200 1024^2 PNGs against 200 separate calls, in one run.
bench-batch: install
	$(BIN)/python scripts/bench_batch.py

# 2-process data-parallel training (torchrun, gloo) against 1 process, samples per second, in one run.
bench-distributed: install
	$(BIN)/python scripts/bench_distributed.py

# The training photo sampler on camera-sized JPEGs: photos decoded in 0, 1 and 2 worker processes, in one run.
bench-data: install
	$(BIN)/python scripts/bench_data.py

bench-image: install
	$(BIN)/veil bench image --model stegnet
	$(BIN)/veil bench image --model pixinpix
	$(BIN)/veil bench image --model lsb3
	$(BIN)/veil bench image --model codec

clean:
	rm -rf $(VENV) .pytest_cache build dist src/*.egg-info
