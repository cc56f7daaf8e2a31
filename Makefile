# The two commands a fresh Debian machine needs:
#   make run   install what is missing, build, start `kite server` (embedded SQLite)
#   make test  install what is missing, build (normal and ASan+UBSan), run every test
# Variables: BUILD_DIR, JOBS, ARGS (extra flags for `kite server` in `make run`) and
# SCHED_BENCH_ARGS (flags for sched_bench in `make bench`, e.g. --nodes 1000 --pods 2000).

BUILD_DIR ?= build
SAN_BUILD_DIR ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS = -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++

.PHONY: deps build build-asan run test test-fast bench clean

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(SAN_BUILD_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DKITE_SANITIZE=ON >/dev/null
	@cmake --build $(SAN_BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/kite server $(ARGS)

# Every test, in the normal build and again under AddressSanitizer + UBSan.
test: build build-asan
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	cd $(SAN_BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	$(BUILD_DIR)/bench/store_bench
	$(BUILD_DIR)/bench/api_bench
	bench/idle_rss.sh $(BUILD_DIR)/kite
	$(BUILD_DIR)/bench/podstart_bench
	$(BUILD_DIR)/bench/sched_bench $(SCHED_BENCH_ARGS)

clean:
	rm -rf $(BUILD_DIR) $(SAN_BUILD_DIR)
