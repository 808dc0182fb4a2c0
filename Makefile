# The two commands of the README:
#   make demo   installs what is missing, builds, runs the LeNet-5 demo
#   make test   installs what is missing, builds, runs the test suite (ctest)
# Plain `make` installs what is missing and builds everything into build/.

BUILD   ?= build
JOBS    ?= $(shell nproc)
PREFIX  ?= /usr/local
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian 12 packages Strata needs to build, test and run its demo.
PACKAGES := cmake ninja-build g++ pkg-config file libhalide14-0-dev libfmt-dev catch2 zlib1g-dev \
            dataset-fashion-mnist nlohmann-json3-dev libcli11-dev libmseed-dev libmseed-doc

.PHONY: all deps configure build demo test bench install clean

all: build

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
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

# Benchmarks are not tests. LibTorch (libtorch-dev) is an optional peer: install it
# before configuring to get the Strata/LibTorch columns.
bench: build
	$(BUILD)/bin/lenet_bench --threads 2 --json $(BUILD)/lenet_bench.json

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
