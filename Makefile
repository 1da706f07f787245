# The README's two commands: `make run` and `make test`. Each one installs what is
# missing (Debian packages), configures, builds, and runs its job.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: setup configure build run test bench clean format

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > $(BUILD_DIR).configure.log 2>&1 || (cat $(BUILD_DIR).configure.log; exit 1)

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The main job: every standard scenario over a default seed range, with the verdict table
# and the HTML reports (reports-out/index.html links each run's report.html).
RUN_SEEDS ?= 1..3
run: build
	@$(BUILD_DIR)/cli/lockstep sim explore scenarios --seeds $(RUN_SEEDS) --jobs $(JOBS) --report reports-out; \
	status=$$?; echo "HTML report: $(CURDIR)/reports-out/index.html (each run: reports-out/<scenario>-<seed>/report.html)"; exit $$status

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	@bash scripts/bench.sh $(BUILD_DIR)/cli/lockstep

format:
	@find core store checker sim server reports cli tests -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR) $(BUILD_DIR).configure.log
