#!/bin/bash
# In the guest: nic-suite.sh MODE PHASE... One guest, several tests on the same NICs (a boot costs more than a test
# under TCG). PHASE: l2fwd (l2fwd-e2e.sh), jumbo (l2fwd-e2e.sh ... jumbo), features (nic-features.sh: pktio's port A
# and ns0). Each phase's KEY=VALUE lines come out prefixed with the phase name and "_".
set -u
MODE=$1
shift
G=$(cd "$(dirname "$0")" && pwd)
bash "$G/prepare.sh" "$MODE" || { echo "prepare_failed=1"; exit 1; }
# where a guest's time goes (TCG makes every step costly): seconds for prepare.sh and for each phase
echo "prepare_secs=$SECONDS"
export PKTIO_VM_PREPARED=1
rc=0
for phase in "$@"; do
    t0=$SECONDS
    case $phase in
        l2fwd) bash "$G/l2fwd-e2e.sh" "$MODE" ;;
        jumbo) bash "$G/l2fwd-e2e.sh" "$MODE" jumbo ;;
        features) bash "$G/nic-features.sh" "$MODE" ;;
        *) echo "nic-suite: unknown phase $phase" >&2; false ;;
    esac > "phase-$phase.log" 2>&1
    st=$?
    [ $st = 0 ] || rc=$st
    echo "${phase}_secs=$((SECONDS - t0))"
    sed "s/^/${phase}_/" "phase-$phase.log"
    echo "${phase}_rc=$st"
done
exit $rc
