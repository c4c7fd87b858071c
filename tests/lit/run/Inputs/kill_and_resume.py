#!/usr/bin/env python3
"""kill_and_resume.py DIR STEP PARAMS DATA: the commit protocol of sharded
checkpoints under a dying rank.

Runs STEP (compiled for 3 ranks) as an MPI job that checkpoints every 7
steps into DIR/ckpt until rank 1 is killed, half a second after the first
checkpoint is committed; then resumes a
new job from the newest checkpoint for 14 more steps, and runs the same
number of steps straight through with the local backend. Prints the step
resumed from and whether the saved parameters are identical; the run must
not leave a checkpoint that fails to read or resume."""
import os
import subprocess
import sys

directory = os.path.abspath(sys.argv[1])
step, params, data = sys.argv[2:5]
here = os.path.dirname(os.path.abspath(__file__))
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_orte_tmpdir_base=os.path.join(directory, "mpi"),
           OMPI_MCA_btl_vader_backing_directory=os.path.join(directory, "mpi"))
os.makedirs(os.path.join(directory, "mpi"), exist_ok=True)
ckpt = os.path.join(directory, "ckpt")
env["SIGNAL_AFTER"] = os.path.join(ckpt, "latest")
common = ["--params", params, "--data", data, "--threads", "1",
          "--checkpoint-dir", ckpt]
mpirun = ["mpirun", "-np", "3", "--oversubscribe"]
# Each command's output goes to a log beside the checkpoints.
log = open(os.path.join(directory, "log.txt"), "w")

killed = subprocess.run(
    mpirun + [os.path.join(here, "signal_rank.sh"), "1", "KILL", "accel-run",
              step] + common + ["--steps", "100000", "--checkpoint-every", "7",
                                "--collectives", "mpi", "--deterministic"],
    env=env, stdout=log, stderr=subprocess.STDOUT, timeout=120)
if killed.returncode == 0:
    sys.exit("the job ended normally: the kill came too late")
del env["SIGNAL_AFTER"]
with open(os.path.join(ckpt, "latest")) as f:
    latest = f.read().strip()
resumed_at = int(latest.split("-")[1].split(".")[0])
if resumed_at < 7:
    sys.exit("no checkpoint was committed before the kill")
total = str(resumed_at + 14)
subprocess.run(mpirun + ["accel-run", step] + common +
               ["--steps", total, "--resume", "--collectives", "mpi",
                "--deterministic", "--save-params",
                os.path.join(directory, "resumed.safetensors")],
               env=env, check=True, stdout=log, timeout=120)
subprocess.run(["accel-run", step, "--params", params, "--data", data,
                "--threads", "2", "--steps", total, "--save-params",
                os.path.join(directory, "straight.safetensors")],
               check=True, stdout=log, timeout=120)
def contents(name):
    with open(os.path.join(directory, name + ".safetensors"), "rb") as f:
        return f.read()


same = contents("resumed") == contents("straight")
print("resumed at a multiple of 7:", resumed_at % 7 == 0)
print("parameters after resuming:", "identical" if same else "DIFFERENT")
