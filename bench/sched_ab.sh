#!/usr/bin/env bash
# sched_ab: two kite binaries' sched_bench figures, interleaved A B B A so that a host whose
# speed drifts during the runs favours neither (plain A B pairs favour B on a host that
# speeds up). The reference is binary A, the figure binary B's ratio to it.
#
# Usage: bench/sched_ab.sh ROUNDS KITE_A KITE_B [NODES]   (NODES: 5000 by default)
# Each round is four sched_bench runs of 10,000 pods (about 35 s each at 5,000 nodes).
set -euo pipefail
ROUNDS=${1:?usage: $0 ROUNDS KITE_A KITE_B [NODES]}
A=${2:?usage: $0 ROUNDS KITE_A KITE_B [NODES]}
B=${3:?usage: $0 ROUNDS KITE_A KITE_B [NODES]}
NODES=${4:-5000}
BENCH="$(dirname "$0")/../build/bench/sched_bench"
[[ -x "$BENCH" ]] || { echo "sched_ab: build first ($BENCH is missing)" >&2; exit 1; }
declare -A bound cpu
for ((i = 0; i < ROUNDS; i++)); do
  for which in A B B A; do
    bin=$A; [[ $which == B ]] && bin=$B
    line=$("$BENCH" --kite "$bin" --nodes "$NODES" --pods 10000 2>&1 | tail -1)
    [[ $line == RESULT* ]] || { echo "sched_ab: sched_bench failed with $bin: $line" >&2; exit 1; }
    b=$(grep -o ' bound_per_s=[0-9.]*' <<<"$line" | head -1 | cut -d= -f2)
    c=$(grep -o ' server_cpu_s=[0-9.]*' <<<"$line" | head -1 | cut -d= -f2)
    echo "$which $(basename "$bin"): bound_per_s=$b server_cpu_s=$c"
    bound[$which]="${bound[$which]:-} $b"
    cpu[$which]="${cpu[$which]:-} $c"
  done
done
mean() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.1f", s / NF }' <<<"$1"; }
ba=$(mean "${bound[A]}"); bb=$(mean "${bound[B]}"); ca=$(mean "${cpu[A]}"); cb=$(mean "${cpu[B]}")
ratio=$(awk -v a="$ba" -v b="$bb" 'BEGIN { printf "%.3f", b / a }')
cpu_ratio=$(awk -v a="$ca" -v b="$cb" 'BEGIN { printf "%.3f", b / a }')
echo "RESULT nodes=$NODES rounds=$ROUNDS bound_per_s_a=$ba bound_per_s_b=$bb ratio_bound_b_vs_a=$ratio" \
  "server_cpu_s_a=$ca server_cpu_s_b=$cb ratio_cpu_b_vs_a=$cpu_ratio"
