# Fuzzing the configuration reader (Sources/FPMConfiguration) with libFuzzer.
# `make fuzz-config` builds fuzz/bin/config and runs it FUZZ_SECONDS on fuzz/corpus-config,
# which starts from the committed seeds in fuzz/corpus-seed-config. Crashes land in fuzz/.

SWIFTC ?= swiftc
FUZZ_SECONDS ?= 600
# The module without its one file of system calls (through FPMSystem, not built here): the
# fuzzer gets fuzz/ConfigFuzzSystem.swift in its place; `gearman.servers`' address type comes
# from Sources/Gearman (one file, no dependency), compiled into the same module.
CONFIG_FUZZ_SOURCES = $(filter-out Sources/FPMConfiguration/ConfigurationFileSystem+System.swift,$(wildcard Sources/FPMConfiguration/*.swift)) \
	Sources/Gearman/GearmanServerAddress.swift fuzz/ConfigFuzzSystem.swift fuzz/ConfigFuzz.swift

.PHONY: fuzz-config fuzz-config-build

fuzz/bin/config: $(CONFIG_FUZZ_SOURCES)
	@mkdir -p fuzz/bin
	$(SWIFTC) -O -sanitize=fuzzer,address -parse-as-library -module-name FPMConfigurationFuzz \
		$(CONFIG_FUZZ_SOURCES) -o $@

# A libFuzzer dictionary: every directive name from the directive table, plus the syntax.
fuzz/bin/config.dict: Sources/FPMConfiguration/Directives.swift
	@mkdir -p fuzz/bin
	@{ grep -o '"[a-z0-9_./]\+"' $< | sort -u; \
	   for token in '[global]' '[www]' ' = ' '"' "'" ';' '$${' '}' '$$pool' 'include = ' '[]' \
	                'yes' 'no' 'unlimited' 'static' 'dynamic' 'ondemand' '127.0.0.1:9000' '[::1]:9000' '5m' '0660'; do \
	     printf '"%s"\n' "$$(printf '%s' "$$token" | sed 's/\\/\\\\/g; s/"/\\"/g')"; done; \
	   printf '"\\x0A["\n"\\x0A"\n'; } > $@

fuzz-config-build: fuzz/bin/config fuzz/bin/config.dict

fuzz-config: fuzz/bin/config fuzz/bin/config.dict
	@mkdir -p fuzz/corpus-config
	@cp -n fuzz/corpus-seed-config/* fuzz/corpus-config/ 2>/dev/null || true
	cd fuzz && SWIFT_BACKTRACE=enable=no ./bin/config -max_total_time=$(FUZZ_SECONDS) -max_len=2048 \
		-timeout=10 -dict=bin/config.dict corpus-config
