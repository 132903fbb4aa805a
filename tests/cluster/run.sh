#!/usr/bin/env bash
# Cluster test: a single-node SLURM cluster on loopback (127.0.0.1) with one declared GPU, the smoke config run
# through profiles/slurm, then checks: every output exists, training jobs asked SLURM for a GPU and ran where
# SLURM set CUDA_VISIBLE_DEVICES. The daemons it starts are stopped by their PIDs on exit. Needs root (CI is).
#   bash tests/cluster/run.sh [extra snakemake arguments, e.g. a target]
# Exit 0 on success. Pitfalls this handles (seen on Debian 12):
#  - the plugin picks sacct for status checks wherever the sacct command exists, but this cluster has no
#    accounting: the test passes --slurm-status-command squeue (site settings stay out of profiles/slurm);
#  - the declared GPU is not a real device, so the training jobs are told to use the CPU (train.device: cpu;
#    with auto, a job given a GPU that torch cannot use stops at once);
#  - the job step drops SLURM_CONF, so the config must sit at /etc/slurm/slurm.conf (symlinked here);
#  - DefMemPerCPU lets jobs share the node; the GPU is declared with File=/dev/null (no real device).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
W=${CLUSTER_DIR:-/tmp/torchbasics-slurm}
HOST=$(hostname -s)
# The smoke config with a quarter of its training images: this test is about the wiring (what each job asks SLURM
# for and where it runs), and the four training jobs run one after the other on the one declared GPU.
CONFIG=(--configfile config.yaml tests/smoke.yaml --config 'split={train: [0, 500], val: [2000, 2500], test: [2500, 3000]}')
log() { printf '[cluster-test %s] %s\n' "$(date +%T)" "$*"; }

install_slurm() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && return
  log "installing slurmctld slurmd slurm-client munge"
  local policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then  # keep the packages' postinst from starting services
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; policy_created=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
  [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

write_config() {
  rm -rf "$W"; mkdir -p "$W"/{etc,state,spool,log,run,work}
  # The node claims 8 CPUs and 64 GB whatever the machine has (config_overrides), so the profile's real
  # requests (4 CPUs per GPU, 16 GB for training) are tested unchanged on a small CI machine.
  cat > "$W/etc/slurm.conf" <<CONF
ClusterName=torchbasics-test
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmdParameters=config_overrides
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/run/slurmctld.pidfile
SlurmdPidFile=$W/run/slurmd.pidfile
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MinJobAge=600
ReturnToService=2
GresTypes=gpu
NodeName=$HOST NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=8 RealMemory=64000 Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$HOST MaxTime=INFINITE State=UP
CONF
  echo "NodeName=$HOST Name=gpu File=/dev/null" > "$W/etc/gres.conf"
  mkdir -p /etc/slurm
  local f
  for f in slurm.conf gres.conf; do
    if [ -e "/etc/slurm/$f" ] && [ ! -L "/etc/slurm/$f" ]; then
      echo "/etc/slurm/$f exists and is not ours; refusing to replace it" >&2; exit 1
    fi
    ln -sfn "$W/etc/$f" "/etc/slurm/$f"
  done
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
  fi
}

stop_daemons() {
  set +e
  local name pid
  for name in slurmd slurmctld munged; do
    pid=$(cat "$W/run/$name.pid" 2>/dev/null) || continue
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    log "stopped $name (pid $pid)"
  done
  for name in slurm.conf gres.conf; do [ -L "/etc/slurm/$name" ] && rm -f "/etc/slurm/$name"; done
}

wait_for() {  # wait_for DESCRIPTION COMMAND...: poll for up to 20 s
  local what=$1; shift
  for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for $what" >&2; tail -20 "$W"/log/* >&2; return 1
}

start_daemons() {
  install -d -o munge -g munge -m 0755 /run/munge
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground > "$W/log/munged.out" 2>&1 &
  echo $! > "$W/run/munged.pid"
  wait_for munge sh -c 'munge -n </dev/null'
  /usr/sbin/slurmctld -D -i > "$W/log/slurmctld.out" 2>&1 &
  echo $! > "$W/run/slurmctld.pid"
  wait_for slurmctld sh -c 'scontrol ping | grep -q UP'
  /usr/sbin/slurmd -D -N "$HOST" > "$W/log/slurmd.out" 2>&1 &
  echo $! > "$W/run/slurmd.pid"
  wait_for "node $HOST idle" sh -c "[ \"\$(sinfo -h -n $HOST -o %t)\" = idle ]"
  sinfo
}

run_pipeline() {
  "$PYTHON" "$REPO/tests/make_inputs.py" "$W/work" >/dev/null
  log "running the smoke config, a quarter of its training images, with --profile profiles/slurm"
  # The test cluster's own settings, on top of the users' profile: no accounting, hence no accounts and no sacct
  # (--slurm-no-account, --slurm-status-command squeue); a declared GPU with no device behind it (train on the CPU);
  # an idle controller of our own, so the first status check after a submission comes in seconds, not the
  # plugin's default 40, which spares a busy shared controller but leaves this test waiting.
  (cd "$REPO" && PATH="$(dirname "$PYTHON"):$PATH" timeout -k 10 1800 "$PYTHON" -m snakemake \
      "$@" --profile profiles/slurm --slurm-no-account --slurm-status-command squeue \
      --slurm-init-seconds-before-status-checks 2 --directory "$W/work" \
      "${CONFIG[@]}" 'train={device: cpu}')
}

check_results() {
  local missing
  missing=$(cd "$REPO" && "$PYTHON" -m snakemake --directory "$W/work" "${CONFIG[@]}" \
      --summary 2>/dev/null | awk -F'\t' 'NR > 1 && $2 == "-" {print $1}') || true
  if [ -n "$missing" ]; then echo "outputs missing after the cluster run:"$'\n'"$missing" >&2; return 1; fi
  log "every output exists"
  # One line per job (SLURM keeps finished jobs for MinJobAge): id|rule (the plugin's comment)|partition|GPUs
  # per job|per node|state; a GPU request reads gres:gpu:1 (older SLURM: gres/gpu:1)
  squeue --states=all -h -O "JobID:8|,Comment:70|,Partition:6|,tres-per-job:20|,tres-per-node:20|,State:12" \
    | tr -d ' ' > "$W/jobs.txt"
  cat "$W/jobs.txt"
  local train_jobs gpu_train_jobs
  train_jobs=$(grep -c 'rule_train' "$W/jobs.txt" || true)
  gpu_train_jobs=$(grep 'rule_train' "$W/jobs.txt" | grep -Ec 'gres[:/]gpu' || true)
  if [ "$train_jobs" -lt 1 ] || [ "$train_jobs" != "$gpu_train_jobs" ]; then
    echo "expected every training job to request a GPU: $gpu_train_jobs of $train_jobs did" >&2; return 1
  fi
  if grep -v 'rule_train' "$W/jobs.txt" | grep -Eq 'gres[:/]gpu'; then
    echo "a job other than training asked for a GPU" >&2; return 1
  fi
  log "$train_jobs training job(s) requested a GPU; no other job did"
  # tests/smoke.yaml: 2 variants x 2 seeds, each (variant, seed) a SLURM job of its own
  local runs
  runs=$(grep 'rule_train' "$W/jobs.txt" | cut -d'|' -f2 | sort -u | wc -l)
  if [ "$train_jobs" != 4 ] || [ "$runs" != 4 ]; then
    echo "expected one training job per (variant, seed), 4 in all: $train_jobs job(s), $runs distinct" >&2; return 1
  fi
  log "one training job per (variant, seed)"
  # SLURM hands a job its granted GPU through CUDA_VISIBLE_DEVICES; the training log records what it saw.
  local train_log
  for train_log in "$W"/work/logs/train/*.log; do
    if ! grep -q "CUDA_VISIBLE_DEVICES=0" "$train_log"; then
      echo "$train_log: the training job did not see the GPU SLURM granted (CUDA_VISIBLE_DEVICES)" >&2; return 1
    fi
  done
  log "training jobs ran with CUDA_VISIBLE_DEVICES set by SLURM"
}

install_slurm
write_config
trap stop_daemons EXIT
start_daemons
run_pipeline "$@"
check_results
log "cluster test passed"
