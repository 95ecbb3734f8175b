#!/usr/bin/env bash
# Starts (or stops) a one-node Slurm on this machine, for checking that an
# experiment's shards run as a Slurm array job (tests/slurm.rs, docs/cluster.md).
#
#   scripts/slurm-local.sh start DIR   # writes DIR/slurm.conf, starts munged, slurmctld, slurmd
#   scripts/slurm-local.sh stop DIR
#
# Needs Debian's slurm-wlm and munge (scripts/setup-system.sh installs them)
# and root (slurmd runs jobs as their user). Prints the SLURM_CONF to export.
set -euo pipefail
cmd=${1:?usage: $0 start|stop DIR}
dir=$(realpath -m "${2:?usage: $0 start|stop DIR}")
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo -n"; fi
case "$cmd" in
start)
    mkdir -p "$dir/state" "$dir/spool"
    cpus=$(nproc)
    mem=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
    cat > "$dir/slurm.conf" <<CONF
ClusterName=camtwin-local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ReturnToService=2
MpiDefault=none
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    if ! pgrep -x munged >/dev/null; then
        $SUDO mkdir -p /run/munge
        $SUDO chown munge:munge /run/munge
        if [[ ! -s /etc/munge/munge.key ]]; then $SUDO mungekey --create; $SUDO chown munge:munge /etc/munge/munge.key; fi
        $SUDO su -s /bin/sh munge -c /usr/sbin/munged
    fi
    $SUDO slurmctld -c -f "$dir/slurm.conf"
    $SUDO slurmd -f "$dir/slurm.conf"
    for _ in $(seq 1 50); do
        if SLURM_CONF="$dir/slurm.conf" sinfo -h -o %T 2>/dev/null | grep -q idle; then
            echo "SLURM_CONF=$dir/slurm.conf"
            exit 0
        fi
        sleep 0.2
    done
    echo "slurm-local: the node did not become idle; see $dir/slurmctld.log and $dir/slurmd.log" >&2
    exit 1
    ;;
stop)
    for d in slurmd slurmctld; do
        if [[ -s "$dir/$d.pid" ]]; then $SUDO kill "$(cat "$dir/$d.pid")" 2>/dev/null || true; fi
    done
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
