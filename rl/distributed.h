// Data parallelism over LibTorch's c10d, launched like any torchrun job: the job's shape from the
// environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, as torchrun sets them), a
// TCPStore rendezvous that gives up after R1_DIST_TIMEOUT_S, one process group (Gloo for CPU
// training, NCCL for CUDA where the build has it) and the few collectives the trainers need: sums
// of gradients (bucketed into flat buffers), sums / max / min of scalars, a barrier. One process
// (no variables, or WORLD_SIZE=1) makes no process group and every collective returns at once.
// Leaves out tensor/pipeline parallelism, sharded optimiser state, several groups and elastic
// membership.
#pragma once

#include <c10/core/Device.h>  // c10::Device
#include <torch/types.h>      // torch::Tensor

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <memory>      // std::shared_ptr
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

namespace r1 {

// The job as its launcher describes it.
struct DistEnv {
  int64_t rank = 0;           // RANK: this process, in [0, world_size)
  int64_t world_size = 1;     // WORLD_SIZE: processes in the job; 1 = no process group
  int64_t local_rank = 0;     // LOCAL_RANK: index on this machine (its CUDA device); default RANK
  std::string master_addr;    // MASTER_ADDR: host of the job's store (rank 0's, or torchrun's)
  int64_t master_port = 0;    // MASTER_PORT: its port
  double timeout_s = 300;     // R1_DIST_TIMEOUT_S: wait for peers at rendezvous and per collective
  bool agent_store = false;   // TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent hosts the store
  int64_t restart_count = 0;  // TORCHELASTIC_RESTART_COUNT: the store's keys are per attempt
};

// The job from the variables `getenv` returns (null = unset). Throws r1::Error naming the variable
// and its value for a malformed or inconsistent one (RANK without WORLD_SIZE, RANK out of range, a
// missing MASTER_ADDR/MASTER_PORT when WORLD_SIZE > 1, a timeout that is not a positive number).
DistEnv read_dist_env(const std::function<const char*(const char*)>& getenv);
// The same from the process environment.
DistEnv read_dist_env();

// This process's place in a data-parallel job and the collectives over it. Every rank must make
// the same calls in the same order (c10d's contract); a rank that has nothing to add passes zeros.
// Collectives fail with r1::Error (naming this rank) when a peer exits or stays silent past the
// timeout, instead of waiting forever.
class Dist {
 public:
  Dist() = default;  // one process: rank 0 of 1, no process group
  // Joins the job `env` describes (world_size > 1): rank 0 hosts the TCPStore at
  // MASTER_ADDR:MASTER_PORT (or every rank joins torchrun's agent store), then the process group
  // over it: Gloo for a CPU `device`, NCCL for a CUDA one (on cuda:LOCAL_RANK unless the device
  // names an index). Throws r1::Error when the peers do not all join within env.timeout_s.
  Dist(const DistEnv& env, torch::Device device);

  int64_t rank() const { return env_.rank; }
  int64_t world_size() const { return env_.world_size; }
  bool is_main() const { return env_.rank == 0; }      // rank 0 writes checkpoints and logs
  bool active() const { return env_.world_size > 1; }  // false: every collective is a no-op
  const DistEnv& env() const { return env_; }
  // The device this rank trains on for a requested one: "cuda" becomes cuda:LOCAL_RANK in a job.
  torch::Device device_for(torch::Device requested) const;
  // This rank's contiguous part [begin, end) of n items: [n * r / W, n * (r + 1) / W), so the
  // parts are in rank order, cover [0, n) and differ in size by at most one.
  std::pair<int64_t, int64_t> shard(int64_t n) const;

  // Sums each tensor over the ranks in place; tensors of one dtype and device travel together in
  // flat buffers of at most kBucketBytes.
  void sum_tensors(const std::vector<torch::Tensor>& tensors) const;
  // Sums the gradients of `params` over the ranks. A parameter with a gradient on some rank but
  // not on this one (a rank without rows this step) gets zeros first, so every rank ends with the
  // same gradients on the same parameters.
  void sum_gradients(const std::vector<std::pair<std::string, torch::Tensor>>& params) const;
  // Element-wise sum / max / min of `values` over the ranks, in place (float64).
  void sum(std::vector<double>& values) const;
  void max(std::vector<double>& values) const;
  void min(std::vector<double>& values) const;
  double sum(double value) const;
  // Whether `value` is the same on every rank (true for one process).
  bool same_on_all_ranks(double value) const;
  // Waits until every rank gets here, for at most timeout_s (0: the job's R1_DIST_TIMEOUT_S).
  void barrier(double timeout_s = 0) const;
  // The barrier after work only rank 0 does (a checkpoint write, a held-out evaluation), which may
  // take longer than a collective: kMainWorkWaitFactor x the timeout (an hour by default). A rank
  // that exits is still noticed at once (its connections close).
  void wait_for_main() const { barrier(kMainWorkWaitFactor * env_.timeout_s); }

  static constexpr int64_t kBucketBytes = int64_t{64} << 20;
  static constexpr double kMainWorkWaitFactor = 12.0;

  struct Group;  // the c10d store and process group (distributed.cpp)

 private:
  DistEnv env_;
  std::shared_ptr<Group> group_;  // null when !active()
};

// The job of this process, joined on first use from the environment with `device`; later calls
// return the same one (the trainers of one process, e.g. `r1train zero`'s SFT then GRPO, share it).
// Throws r1::Error for a bad environment, a failed rendezvous, or a later call whose device type
// differs from the first (the group is Gloo or NCCL for good).
const Dist& process_dist(torch::Device device);

}  // namespace r1
