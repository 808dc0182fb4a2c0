# The two commands of the README:
#   make demo   installs what is missing, builds, runs the LeNet-5 demo
#   make test   installs what is missing, builds, runs the test suite (ctest)
# Plain `make` installs what is missing and builds everything into build/.

BUILD   ?= build
JOBS    ?= $(shell nproc)
PREFIX  ?= /usr/local
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian 12 packages Strata needs to build, test and run its demo.
PACKAGES := cmake ninja-build g++ pkg-config file libhalide14-0-dev libfmt-dev catch2 zlib1g-dev libssl-dev \
            dataset-fashion-mnist nlohmann-json3-dev libcli11-dev libmseed-dev libmseed-doc \
            libopenmpi-dev openmpi-bin libhdf5-dev libsegyio-dev libonnx-dev libprotobuf-dev libonnx-testdata

# Only for `make fuzz` (libFuzzer comes with clang's runtime libraries).
FUZZ_PACKAGES := clang-14 libclang-rt-14-dev

# `make test-sanitize` and `make fuzz` build into their own folders.
SANITIZE_BUILD ?= build-asan
FUZZ_BUILD     ?= build-fuzz
FUZZ_SECONDS   ?= 60
# What test-sanitize builds and runs (default: everything), e.g. as .ci/run does:
#   make test-sanitize SANITIZE_TARGETS="tests/test_ir_parser ..." SANITIZE_TESTS="-R '^test_ir_parser:'"
SANITIZE_TARGETS ?=
SANITIZE_TESTS ?=
# Every ASan check, LeakSanitizer included, stays on (see fuzz/README.md); UBSan stops at its
# first report. A run that needs another setting can pass ASAN_OPTIONS in the environment.
SANITIZE_ENV   := UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all deps deps-fuzz configure build demo test test-sanitize fuzz bench install clean

all: build

deps-fuzz: WANTED = $(FUZZ_PACKAGES)
deps-fuzz: deps

deps:
	@missing=""; \
	for p in $(PACKAGES) $(WANTED); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing Debian packages:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja: | deps
	cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/bin/fashion_mnist --epochs 3

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite built with AddressSanitizer + UndefinedBehaviorSanitizer (Strata's code is
# instrumented; Halide's library and the code its JIT generates are not).
test-sanitize: deps
	cmake -G Ninja -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=Release -DSTRATA_SANITIZE=ON
	cmake --build $(SANITIZE_BUILD) -j $(JOBS) $(if $(SANITIZE_TARGETS),--target $(SANITIZE_TARGETS))
	cd $(SANITIZE_BUILD) && $(SANITIZE_ENV) ctest --output-on-failure -j $(JOBS) $(SANITIZE_TESTS)

# Every libFuzzer target for FUZZ_SECONDS each; prints executions and crashes per target.
fuzz: deps-fuzz
	cmake -G Ninja -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Release -DSTRATA_FUZZ=ON \
	      -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Benchmarks are not tests: every workload of `strata bench` on 2 threads, checked against
# the simple schedule, table on stdout and JSON in $(BUILD)/bench.json. LibTorch
# (libtorch-dev) is an optional peer: install it before configuring to get its columns.
bench: build
	$(BUILD)/bin/strata bench --threads 2 --check --json $(BUILD)/bench.json

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
