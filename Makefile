# postamt: the Makefile only wraps meson and ninja (DESIGN.md §1).
#   make         build build/postamt
#   make run     install missing dependencies (as root), build, create ./postamt-data, serve
#   make check   build and run every test: unit, end to end, both again under ASan+UBSan, and
#                the unit tests and the threaded end-to-end files under TSan
#   make fuzz    run every libFuzzer target for FUZZ_SECONDS each
#   make bench   benchmarks side by side with Dovecot and Postfix, then bench-imap
#   make bench-imap  IMAP QRESYNC, SORT and THREAD on 100,000 messages against Dovecot
#                (bench/imap_ext_bench.py -> bench/results/imap_ext.md)
#   make bench-quick  the same in under two minutes, for day-to-day use
#   make clean   remove the build directories

BUILD ?= build
FUZZ_SECONDS ?= 60

.PHONY: all build run check fuzz bench bench-imap bench-quick clean deps

all: build

deps:
	@scripts/install-deps --if-missing

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: deps build
	@scripts/run

check: deps
	@scripts/check

fuzz: deps
	@scripts/fuzz $(FUZZ_SECONDS)

bench: deps build
	@scripts/bench
	@bench/imap_ext_bench.py

bench-imap: deps build
	@bench/imap_ext_bench.py

bench-quick: deps build
	@BENCH_QUICK=1 scripts/bench

clean:
	rm -rf build build-asan build-tsan build-fuzz
