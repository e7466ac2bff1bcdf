# Fuzzing the configuration reader (Sources/FPMConfiguration) with libFuzzer.
# `make fuzz-config` builds fuzz/bin/config and runs it FUZZ_SECONDS on fuzz/corpus-config,
# which starts from the committed seeds in fuzz/corpus-seed-config. Crashes land in fuzz/.

SWIFTC ?= swiftc
FUZZ_SECONDS ?= 600
CONFIG_FUZZ_SOURCES = $(wildcard Sources/FPMConfiguration/*.swift) fuzz/ConfigFuzz.swift

.PHONY: fuzz-config fuzz-config-build

fuzz/bin/config: $(CONFIG_FUZZ_SOURCES)
	@mkdir -p fuzz/bin
	$(SWIFTC) -O -sanitize=fuzzer,address -parse-as-library -module-name FPMConfigurationFuzz \
		$(CONFIG_FUZZ_SOURCES) -o $@

fuzz-config-build: fuzz/bin/config

fuzz-config: fuzz/bin/config
	@mkdir -p fuzz/corpus-config
	@cp -n fuzz/corpus-seed-config/* fuzz/corpus-config/ 2>/dev/null || true
	cd fuzz && SWIFT_BACKTRACE=enable=no ./bin/config -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-timeout=10 corpus-config
