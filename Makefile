# SPDX-License-Identifier: GPL-2.0
#
# migrc project driver.  Everything is built under build/ (ignored):
#   build/linux            the prepared kernel tree (git: pristine + series)
#   build/kunit-<arch>     out-of-tree KUnit builds, one per arch/variant
#   build/guest-<arch>     the kernel and initramfs that `make run` boots
#
#   make test              make check, then every test on x86_64, arm64, riscv
#   make test-full         make test, plus the stress tests on the sanitizer kernels
#   make run [ARCH=x86_64|arm64|riscv]
#   make kunit ARCH=arm64  one architecture's KUnit suites and guest tests
#   make check             checkpatch, kernel-doc, W=1 and sparse
#   make tree              install what is missing, prepare build/linux
#   make check-series      build every patch of the series on all arches
#   make mutate ARCH=...   which tests catch each migrc hook switched off
#   make soak [ARCH=...] [SOAK_MINUTES=n]  the tiering workload, every checker on
#   make profile [ARCH=...] [WORKLOAD=...]  kernel instructions per page moved, on/off
#   make series            export the series with git format-patch

ARCH ?= x86_64
ARCHES := x86_64 arm64 riscv

.PHONY: all deps tree test test-full kunit run check check-series series mutate soak profile clean distclean

all: test

deps:
	@./scripts/deps.sh

tree: deps
	@./scripts/prepare-tree.sh

test: tree
	@CHECK=1 ./scripts/test.sh $(ARCHES)

# make test, plus the stress tests on the three sanitizer kernels (about
# 15 minutes more under TCG: outside CI's 90-minute budget).
test-full: tree
	@CHECK=1 SANITIZER_STRESS=1 ./scripts/test.sh $(ARCHES)

check: tree
	@./scripts/check.sh

kunit: tree
	@./scripts/test.sh $(ARCH)

run: tree
	@./scripts/run.sh $(ARCH)

mutate: tree
	@./scripts/kunit.sh $(ARCH) >/dev/null || true
	@./scripts/mutate.sh $(ARCH)

check-series: tree
	@./scripts/check-series.sh $(ARCHES)

soak: tree
	@WORKLOAD=soak ./scripts/run.sh $(ARCH)

profile: tree
	@./scripts/insns/profile.py $(ARCH)

series: tree
	@rm -rf build/series && git -C build/linux -c user.name="migrc developers" -c user.email=migrc@localhost format-patch -q --cover-letter -o ../series pristine..HEAD
	@python3 scripts/cover-letter.py build/series/0000-cover-letter.patch build/results
	@wc -l build/series/*.patch

clean:
	rm -rf build/kunit-* build/guest-* build/series

distclean:
	rm -rf build
