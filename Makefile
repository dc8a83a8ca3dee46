# boxmail front door.
#   make deps        install missing Debian/npm packages (idempotent, quiet when present)
#   make             configure and build (build/)
#   make run         build, then start boxmaild on its embedded default configuration
#   make test        build, then run every test through ctest
#   make bench       feed benchmarks against Postfix on the same machine
BUILD    ?= build
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?=

DEB_PACKAGES := g++ cmake make pkg-config libboost1.81-dev libmbedtls-dev libinih-dev \
                libudns-dev libcrypt-dev libgtest-dev libgmock-dev python3 swaks postfix \
                dnsmasq-base iproute2 util-linux npm procps

.PHONY: all deps build run test bench clean

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
	  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  rc=$$?; rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: deps build
	$(BUILD)/boxmaild

test: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps build
	/usr/bin/python3 tests/bench/feed_bench.py --build $(BUILD)

clean:
	rm -rf $(BUILD)
