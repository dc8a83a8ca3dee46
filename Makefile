# boxmail front door.
#   make deps        install missing Debian/npm packages (idempotent, quiet when present;
#                    no service of a package is started: policy-rc.d says no, and the
#                    system lighttpd the tests do not use is not enabled for the next boot)
#   make             configure and build (build/)
#   make run         build, then start boxmaild and the web panel (127.0.0.1:8080);
#                    as root: boxmaild drops to the user boxmail, the panel runs as boxmail-web
#   make test        build, then run every test through ctest
#   make bench       feed, POP3, TLS and relay benchmarks against Postfix and Dovecot on the same machine (+ a short soak)
#   make bench-relay the outgoing-mail benchmark alone (boxmaild and Postfix relaying to smtp-sink)
#   make soak        SIGKILL, disk-full and slow-client soak for SOAK_SECONDS (default 600)
#   make cross ARCH=aarch64|armhf      cross build for the board (build/cross-ARCH)
#   make test-cross ARCH=aarch64|armhf the cross build's unit tests under qemu-user
#   make image BOARD=qemu-aarch64      kernel + initramfs (build/board/BOARD)
#   make boot-test BOARD=qemu-aarch64  boot the image in QEMU, mail/POP3/HTTP from the host
#   make install DESTDIR=DIR [ARCH=..] install the file set into a staging root
BUILD    ?= build
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?=

DEB_PACKAGES := g++ cmake make pkg-config libboost1.81-dev libmbedtls-dev libinih-dev \
                libudns-dev libcrypt-dev libgtest-dev libgmock-dev python3 swaks postfix \
                dnsmasq-base iproute2 util-linux procps fetchmail curl busybox chromium \
                libnftables-dev g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user \
                qemu-system-arm binutils-aarch64-linux-gnu openssl msmtp testssl.sh python3-cryptography \
                libnet-ssleay-perl patch xz-utils lighttpd lighttpd-mod-mbedtls nftables \
                mmdebstrap lintian u-boot-tools e2fsprogs

.PHONY: all deps accounts build static run test bench bench-relay soak fuzz clean testssl

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
	  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  rc=$$?; rm -f /usr/sbin/policy-rc.d; \
	  case " $$missing " in *" lighttpd "*) \
	    update-rc.d lighttpd disable >/dev/null 2>&1; \
	    deb-systemd-helper disable lighttpd.service >/dev/null 2>&1;; esac; \
	  exit $$rc; \
	fi

# The system accounts boxmail runs as (boxmail: boxmaild after binding its
# ports; boxmail-web: the panel), made when missing; as root only (not
# root, everything runs as the caller and nothing is dropped).
accounts:
	@if [ "$$(id -u)" = 0 ]; then tests/system-accounts; fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# boxmaild on var/boxmail.ini (written on first run from the defaults, with
# absolute paths) and the web panel: busybox httpd + boxmail.cgi on
# 127.0.0.1:8080. Prints the URL, the admin login and the demo mailboxes
# (passwords on the first run only). Ctrl-C stops both.
# `$(BUILD)/boxmaild` alone still runs on the embedded default.
run: deps build accounts
	/usr/bin/python3 tests/web/panel_env.py --build $(BUILD) --dir var --http 127.0.0.1:8080 --demo

test: deps build accounts
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-cross ARCH=aarch64
	$(MAKE) boot-test BOARD=qemu-aarch64

# The appliance build (static, MinSizeRel) is what the bench measures. Like
# the board builds it links the minimal mbedTLS (cross/build-mbedtls.sh, here
# compiled with the host's gcc into $(STATIC_BUILD)/mbedtls; the source
# package is cached in $(BUILD)/debian-src). Configured on every run so that
# an older build-static picks up the prefix.
STATIC_BUILD ?= build-static
STATIC_MBEDTLS = $(abspath $(STATIC_BUILD))/mbedtls

static:
	JOBS=$(JOBS) cross/build-mbedtls.sh host $(BUILD)/debian-src $(STATIC_MBEDTLS)
	cmake -S . -B $(STATIC_BUILD) -DBOXMAIL_STATIC=ON -DCMAKE_BUILD_TYPE=MinSizeRel -DBOXMAIL_TESTS=OFF \
	  -DBOXMAIL_MBEDTLS_PREFIX=$(STATIC_MBEDTLS) >/dev/null
	cmake --build $(STATIC_BUILD) -j $(JOBS)

bench: deps build static
	/usr/bin/python3 tests/bench/feed_bench.py --build $(BUILD) --bin $(STATIC_BUILD)
	/usr/bin/python3 tests/bench/pop3_bench.py --build $(BUILD) --bin $(STATIC_BUILD)
	/usr/bin/python3 tests/bench/tls_bench.py --build $(BUILD) --bin $(STATIC_BUILD)
	/usr/bin/python3 tests/bench/guess_bench.py --build $(BUILD) --bin $(STATIC_BUILD)
	/usr/bin/python3 tests/bench/dnscheck_bench.py --build $(BUILD) --bin $(STATIC_BUILD)
	/usr/bin/python3 tests/bench/ban_bench.py --build $(BUILD) --bin $(STATIC_BUILD)
	/usr/bin/python3 tests/bench/panel_bench.py --build $(BUILD) --bin $(STATIC_BUILD)
	/usr/bin/python3 tests/bench/relay_bench.py --build $(BUILD) --bin $(STATIC_BUILD)
	/usr/bin/python3 tests/bench/soak.py --build $(BUILD) --seconds $(BENCH_SOAK_SECONDS)

# Outgoing mail alone (docs/benchmarks.md, "Outgoing mail"): 10,000 messages
# relayed through boxmaild and through Postfix to smtp-sink, and boxmaild's
# memory and start-up with 10,000 waiting. About 5 minutes; not part of CI.
bench-relay: deps build static
	/usr/bin/python3 tests/bench/relay_bench.py --build $(BUILD) --bin $(STATIC_BUILD)

# Reliability under faults (docs/reliability.md, "Soak harness"): SIGKILL at
# random moments under a 4-client load, disk-full cycles on a small
# loop-mounted ext4, slow clients against the feed; bounded by SOAK_SECONDS
# (`make bench` runs it for BENCH_SOAK_SECONDS unless SOAK_SECONDS is given).
# The table goes to stdout and $(BUILD)/soak-report.md; exit 1 when an
# acknowledged message was lost or a partial file found. Not part of CI.
BENCH_SOAK_SECONDS := $(if $(filter command line environment,$(origin SOAK_SECONDS)),$(SOAK_SECONDS),180)
SOAK_SECONDS ?= 600
soak: deps build
	/usr/bin/python3 tests/bench/soak.py --build $(BUILD) --seconds $(SOAK_SECONDS)

# testssl.sh against a real boxmaild in a private network namespace: SMTP
# STARTTLS, submission over implicit TLS, POP3 STLS, POP3S, and the web
# panel's HTTPS as the appliance serves it (lighttpd; docs/tls.md,
# "testssl.sh"). Findings not listed as accepted in the script fail.
# About two minutes per port; not part of CI.
testssl: deps build accounts
	cd $(BUILD) && BOXMAIL_BUILD=$$PWD BOXMAIL_SOURCE=$(CURDIR) $(CURDIR)/tests/netns-run /usr/bin/python3 $(CURDIR)/tests/tls/testssl_run.py --panel

# libFuzzer (clang, ASan, UBSan): each target for FUZZ_SECONDS, new inputs kept
# under $(FUZZ_BUILD)/corpus, crashes as $(FUZZ_BUILD)/crash-*. Not part of CI.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := data_reader roundtrip smtp_session pop3_session address config form multipart cookies archive control_replies sasl smtp_client fw_request firmware_update
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DBOXMAIL_FUZZ=ON -DBOXMAIL_WERROR=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOXMAIL_FIREWALL=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	set -e; for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  $(FUZZ_BUILD)/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t; done

clean:
	rm -rf $(BUILD) $(STATIC_BUILD) $(FUZZ_BUILD)

# ---- cross builds, firmware image, boot test (see docs/firmware.md) --------
ARCH  ?= aarch64
BOARD ?= qemu-aarch64
CROSS_BUILD  = $(BUILD)/cross-$(ARCH)
CROSS_WORK   = $(BUILD)/cross/$(ARCH)
CROSS_TRIPLET = $(if $(filter aarch64,$(ARCH)),aarch64-linux-gnu,$(if $(filter armhf,$(ARCH)),arm-linux-gnueabihf,$(error ARCH must be aarch64 or armhf)))
BOARD_ARCH   = $(shell sed -n 's/^ARCH=//p' board/$(BOARD)/board.conf 2>/dev/null)
BOARD_OUT    = $(BUILD)/board/$(BOARD)
# Board builds: static, size-tuned (MinSizeRel = -Os), sections + --gc-sections
# (BOXMAIL_STATIC), stripped when staged with `cmake --install --strip`; linked
# against the minimal mbedTLS that cross/build-mbedtls.sh builds from Debian's
# source package into $(CROSS_WORK)/mbedtls (cross/mbedtls-config.h).
CROSS_FLAGS ?=

.PHONY: cross _cross test-cross image boot-test install

cross: deps
	$(MAKE) _cross ARCH=$(ARCH)

_cross:
	cross/make-sysroot.sh $(ARCH) $(CROSS_WORK)
	JOBS=$(JOBS) cross/build-mbedtls.sh $(ARCH) $(BUILD)/debian-src $(CROSS_WORK)/mbedtls
	cmake -S . -B $(CROSS_BUILD) -DCMAKE_TOOLCHAIN_FILE=cross/$(CROSS_TRIPLET).cmake \
	  -DBOXMAIL_SYSROOT=$(abspath $(CROSS_WORK))/sysroot -DCMAKE_BUILD_TYPE=MinSizeRel \
	  -DBOXMAIL_MBEDTLS_PREFIX=$(abspath $(CROSS_WORK))/mbedtls \
	  -DBOXMAIL_STATIC=ON -DCMAKE_INSTALL_PREFIX=/usr $(CROSS_FLAGS) >/dev/null
	cmake --build $(CROSS_BUILD) -j $(JOBS)
	rm -rf $(CROSS_BUILD)/stage
	DESTDIR=$(abspath $(CROSS_BUILD))/stage cmake --install $(CROSS_BUILD) --strip >/dev/null
	@cross/report-sizes.sh $(ARCH) $(CROSS_BUILD)

test-cross: cross
	cd $(CROSS_BUILD) && ctest --output-on-failure -j $(JOBS)

# The firmware's version and the key its update file is signed with
# (docs/firmware.md, "Signing keys"). Without FIRMWARE_KEY a development key
# is made once per build tree, in $(BUILD)/firmware-key/ (never in the
# repository, never beside the image): a vendor builds releases with
# `make image FIRMWARE_KEY=/path/to/their-key.pem FIRMWARE_VERSION=...`.
ifndef FIRMWARE_VERSION
FIRMWARE_VERSION := $(shell sed -n 's/^project.boxmail VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)+$(shell git log -1 --format=%cd.%h --date=format:%Y%m%d 2>/dev/null || echo dev)
endif
DEV_FIRMWARE_KEY = $(BUILD)/firmware-key/development.pem
FIRMWARE_KEY ?= $(DEV_FIRMWARE_KEY)

$(DEV_FIRMWARE_KEY): | deps
	mkdir -p $(dir $@) && chmod 0700 $(dir $@)
	/usr/bin/python3 board/common/sign_firmware.py make-key --key $@ --public $(@:.pem=.pub.pem)
	@echo "make: a development signing key $@ was made: images signed with it take only update files from this build tree"

image: deps $(FIRMWARE_KEY)
	@test -f board/$(BOARD)/board.conf || { echo "make image: no board/$(BOARD)/board.conf"; exit 2; }
	$(MAKE) _cross ARCH=$(BOARD_ARCH)
	/usr/bin/python3 board/common/build_image.py --board board/$(BOARD) \
	  --stage $(BUILD)/cross-$(BOARD_ARCH)/stage --sysroot $(BUILD)/cross/$(BOARD_ARCH)/sysroot \
	  --apt-state $(BUILD)/cross/$(BOARD_ARCH)/apt --out $(BOARD_OUT) \
	  --version '$(FIRMWARE_VERSION)' --signing-key $(FIRMWARE_KEY)

# POWER_CUTS: the power-cut rounds of the boot test (3 in CI, about 15 s
# each; e.g. `make boot-test POWER_CUTS=30` for a longer run).
POWER_CUTS ?= 3
boot-test: image
	/usr/bin/python3 tests/firmware/boot_test.py --board board/$(BOARD) --image $(BOARD_OUT) \
	  --build $(BUILD)/cross-$(BOARD_ARCH) --corpus $(BUILD)/corpus --power-cuts $(POWER_CUTS) \
	  --key $(FIRMWARE_KEY)

# make install DESTDIR=/staging/root: the host build; with ARCH=aarch64|armhf
# the cross build (programs, /etc/boxmail, the web root, the busybox-init
# service script: the appliance's file set; the .deb is `cpack -G DEB` in the
# build directory, docs/debian.md).
install:
	@test -n "$(DESTDIR)" || { echo "make install: set DESTDIR=/path/to/staging/root"; exit 2; }
ifeq ($(origin ARCH),command line)
	$(MAKE) _cross ARCH=$(ARCH)
	DESTDIR=$(abspath $(DESTDIR)) cmake --install $(CROSS_BUILD) --strip
else
	$(MAKE) build
	DESTDIR=$(abspath $(DESTDIR)) cmake --install $(BUILD) --strip
endif
