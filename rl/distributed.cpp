// The data-parallel job (see distributed.h): the environment, the rendezvous and c10d's process
// group. The torch wheel ships ProcessGroupGloo.hpp but not the Gloo headers it includes, while
// libtorch_cpu.so exports the class; the declarations below are the few Gloo names that header
// mentions, enough to compile it (CMake puts empty stand-ins for the five <gloo/...> files on this
// file's include path). Nothing here touches a Gloo object: the process group is made, used and
// destroyed by the library's own code. NCCL is compiled only in CUDA builds that find nccl.h.
#include <chrono>  // std::chrono
#include <string>  // std::string
#include <vector>  // std::vector

namespace gloo {
class Context {
 public:
  void setTimeout(std::chrono::milliseconds timeout);  // named by an inline method; never called
};
namespace rendezvous {
class Store {  // the base of c10d's GlooStore, which r1 never makes
 public:
  virtual ~Store() = default;
  virtual void set(const std::string& key, const std::vector<char>& data) = 0;
  virtual std::vector<char> get(const std::string& key) = 0;
  virtual void wait(const std::vector<std::string>& keys) = 0;
  virtual void wait(const std::vector<std::string>& keys,
                    const std::chrono::milliseconds& timeout) = 0;
};
}  // namespace rendezvous
namespace transport {
class Device;
class UnboundBuffer;
}  // namespace transport
}  // namespace gloo

#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1  // what the wheel was built with; CUDA builds get it from TorchConfig
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>       // c10d::PrefixStore
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>  // c10d::ProcessGroupGloo
#include <torch/csrc/distributed/c10d/TCPStore.hpp>          // c10d::TCPStore
#if defined(R1_WITH_NCCL)
#include <c10/cuda/CUDAFunctions.h>                          // c10::cuda::set_device
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>  // c10d::ProcessGroupNCCL
#endif

#include "rl/distributed.h"

#include <c10/util/Logging.h>  // FLAGS_caffe2_log_level
#include <torch/torch.h>       // torch ops

#include <cerrno>     // errno
#include <cmath>      // std::isfinite
#include <cstdint>    // INT64_MAX
#include <cstdlib>    // std::getenv, std::strtoll, std::strtod
#include <exception>  // std::exception
#include <mutex>      // std::mutex
#include <optional>   // std::optional

#include "toolkit/error.h"  // r1::Error, r1::check

namespace r1 {

struct Dist::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  torch::Device device = torch::kCPU;  // where collective buffers live (CUDA for NCCL)
};

namespace {

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

// A variable's value as an integer in [lo, hi]; unset: nothing.
std::optional<int64_t> env_int(const std::function<const char*(const char*)>& getenv,
                               const char* name, int64_t lo, int64_t hi, const char* meaning) {
  const char* v = getenv(name);
  if (v == nullptr) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno != 0 || x < lo || x > hi)
    throw Error(std::string(name) + "=" + v + ": not " + meaning);
  return static_cast<int64_t>(x);
}

// The first line of a c10d / Gloo error, without LibTorch's backtrace.
std::string short_what(const std::exception& e) {
  std::string s;
  if (const auto* c = dynamic_cast<const c10::Error*>(&e))
    s = c->what_without_backtrace();
  else
    s = e.what();
  if (const size_t nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

// c10d logs every connection retry of the rendezvous (with a backtrace) at error level; those
// tries are expected while the ranks start, and a final failure is our one-line error. Quiet
// for the scope's lifetime.
class QuietC10dLog {
 public:
  QuietC10dLog() : saved_(FLAGS_caffe2_log_level) { FLAGS_caffe2_log_level = 3; }
  ~QuietC10dLog() { FLAGS_caffe2_log_level = saved_; }

 private:
  int saved_;
};

}  // namespace

DistEnv read_dist_env(const std::function<const char*(const char*)>& getenv) {
  DistEnv e;
  const auto world = env_int(getenv, "WORLD_SIZE", 1, 1 << 20, "a positive number of processes");
  const auto rank = env_int(getenv, "RANK", 0, 1 << 20, "a rank (0, 1, ...)");
  if (const char* t = getenv("R1_DIST_TIMEOUT_S")) {
    char* end = nullptr;
    e.timeout_s = std::strtod(t, &end);
    check(*t != '\0' && *end == '\0' && std::isfinite(e.timeout_s) && e.timeout_s > 0,
          std::string("R1_DIST_TIMEOUT_S=") + t + ": not a positive number of seconds");
  }
  if (!world) {
    check(!rank, "RANK=" + std::to_string(rank.value_or(0)) +
                     " is set but WORLD_SIZE is not (set both, or launch with torchrun)");
    return e;
  }
  e.world_size = *world;
  check(rank || e.world_size == 1,
        "WORLD_SIZE=" + std::to_string(e.world_size) +
            " is set but RANK is not (set both, or launch with torchrun)");
  e.rank = rank.value_or(0);
  check(e.rank < e.world_size, "RANK=" + std::to_string(e.rank) +
                                   ": must be below WORLD_SIZE=" + std::to_string(e.world_size));
  e.local_rank =
      env_int(getenv, "LOCAL_RANK", 0, 1 << 20, "a local rank (0, 1, ...)").value_or(e.rank);
  if (e.world_size == 1) return e;
  const char* addr = getenv("MASTER_ADDR");
  check(addr != nullptr && *addr != '\0',
        "MASTER_ADDR: not set (WORLD_SIZE=" + std::to_string(e.world_size) +
            " needs the host of rank 0, e.g. MASTER_ADDR=127.0.0.1 on one machine)");
  e.master_addr = addr;
  const auto port = env_int(getenv, "MASTER_PORT", 1, 65535, "a TCP port (1-65535)");
  check(port.has_value(), "MASTER_PORT: not set (WORLD_SIZE=" + std::to_string(e.world_size) +
                              " needs a free TCP port on rank 0's host, e.g. MASTER_PORT=29500)");
  e.master_port = *port;
  if (const char* a = getenv("TORCHELASTIC_USE_AGENT_STORE"))
    e.agent_store = std::string(a) == "True" || std::string(a) == "true" || std::string(a) == "1";
  e.restart_count =
      env_int(getenv, "TORCHELASTIC_RESTART_COUNT", 0, INT64_MAX, "a restart count").value_or(0);
  return e;
}

DistEnv read_dist_env() {
  return read_dist_env([](const char* name) { return std::getenv(name); });
}

Dist::Dist(const DistEnv& env, torch::Device device) : env_(env) {
  if (!active()) return;
  const std::string who =
      "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size);
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  const auto timeout = to_ms(env.timeout_s);
  const std::string timeout_str = c10::str(env.timeout_s) + " s";
  auto group = std::make_shared<Group>();
  QuietC10dLog quiet;
  // The store: rank 0 serves it (unless torchrun's agent already does) and waits for every rank
  // to connect; the others connect, retrying until the timeout.
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(env.master_port);
    o.isServer = env.rank == 0 && !env.agent_store;
    o.numWorkers = static_cast<size_t>(env.world_size);
    o.waitWorkers = !env.agent_store;
    o.timeout = timeout;
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    if (env.agent_store)  // as torch.distributed does: keys of a restarted attempt start afresh
      store = c10::make_intrusive<c10d::PrefixStore>(
          "/worker/attempt_" + std::to_string(env.restart_count), store);
    group->store = store;
  } catch (const std::exception& e) {
    throw Error(who + ": the ranks did not all meet at MASTER_ADDR:MASTER_PORT " + where +
                " within " + timeout_str + " (" + short_what(e) +
                "); start every rank with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE, or "
                "raise R1_DIST_TIMEOUT_S");
  }
  try {
    if (device.is_cuda()) {
#if defined(R1_WITH_NCCL)
      group->device = device_for(device);
      c10::cuda::set_device(group->device.index());
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      // NCCL's watchdog applies one limit to every collective, wait_for_main's barrier included.
      opts->timeout = to_ms(kMainWorkWaitFactor * env.timeout_s);
      group->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          group->store, static_cast<int>(env.rank), static_cast<int>(env.world_size), opts);
#else
      throw Error(who +
                  ": this build has no NCCL, so CUDA training runs on one process only "
                  "(rebuild with CUDA and nccl.h, or train with --device cpu)");
#endif
    } else {
      // Gloo's default device: GLOO_SOCKET_IFNAME's interfaces, else this host's address.
      auto opts = c10d::ProcessGroupGloo::Options::create_default(timeout);
      group->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(
          group->store, static_cast<int>(env.rank), static_cast<int>(env.world_size), opts);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(who + ": could not make the process group through " + where + " (" + short_what(e) +
                "); raise R1_DIST_TIMEOUT_S, or set GLOO_SOCKET_IFNAME to the "
                "network interface the ranks share");
  }
  group_ = std::move(group);
}

torch::Device Dist::device_for(torch::Device requested) const {
  if (active() && requested.is_cuda() && !requested.has_index())
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env_.local_rank));
  return requested;
}

std::pair<int64_t, int64_t> Dist::shard(int64_t n) const {
  const int64_t W = env_.world_size, r = env_.rank;
  return {n * r / W, n * (r + 1) / W};
}

namespace {

// Runs one collective and waits for it; failures become r1::Error naming the rank.
template <typename F>
void run_collective(const DistEnv& env, const char* what, F&& start) {
  try {
    start()->wait();
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
                ": " + what + " failed (" + short_what(e) +
                "): another rank exited or stopped answering (see its log; the wait limit is "
                "R1_DIST_TIMEOUT_S=" +
                c10::str(env.timeout_s) + ")");
  }
}

}  // namespace

void Dist::sum_tensors(const std::vector<torch::Tensor>& tensors) const {
  if (!active()) return;
  torch::NoGradGuard no_grad;
  size_t i = 0;
  while (i < tensors.size()) {
    // A bucket: consecutive tensors of one dtype and device, up to kBucketBytes (at least one).
    size_t j = i;
    int64_t bytes = 0;
    while (j < tensors.size() && tensors[j].scalar_type() == tensors[i].scalar_type() &&
           tensors[j].device() == tensors[i].device() &&
           (j == i || bytes + tensors[j].nbytes() <= static_cast<size_t>(kBucketBytes))) {
      bytes += static_cast<int64_t>(tensors[j].nbytes());
      ++j;
    }
    std::vector<torch::Tensor> flat_parts;
    for (size_t k = i; k < j; ++k) flat_parts.push_back(tensors[k].reshape({-1}));
    std::vector<at::Tensor> buffer = {torch::cat(flat_parts)};
    if (buffer[0].device() != group_->device) buffer[0] = buffer[0].to(group_->device);
    run_collective(env_, "all-reduce of gradients",
                   [&] { return group_->backend->allreduce(buffer); });
    int64_t offset = 0;
    for (size_t k = i; k < j; ++k) {
      const int64_t n = tensors[k].numel();
      auto part = buffer[0].narrow(0, offset, n).view(tensors[k].sizes());
      tensors[k].copy_(part);
      offset += n;
    }
    i = j;
  }
}

void Dist::sum_gradients(const std::vector<std::pair<std::string, torch::Tensor>>& params) const {
  if (!active()) return;
  std::vector<double> has(params.size(), 0.0);
  for (size_t k = 0; k < params.size(); ++k) has[k] = params[k].second.grad().defined() ? 1 : 0;
  max(has);
  std::vector<torch::Tensor> grads;
  for (size_t k = 0; k < params.size(); ++k) {
    if (has[k] == 0) continue;
    auto p = params[k].second;
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  sum_tensors(grads);
}

namespace {

void reduce_values(const Dist& dist, const std::shared_ptr<Dist::Group>& group,
                   std::vector<double>& values, c10d::ReduceOp::RedOpType op, const char* what) {
  if (!dist.active() || values.empty()) return;
  std::vector<at::Tensor> buffer = {torch::tensor(values, torch::kDouble).to(group->device)};
  c10d::AllreduceOptions opts;
  opts.reduceOp = c10d::ReduceOp(op);
  run_collective(dist.env(), what, [&] { return group->backend->allreduce(buffer, opts); });
  const auto cpu = buffer[0].cpu();
  const double* p = cpu.data_ptr<double>();
  values.assign(p, p + cpu.numel());
}

}  // namespace

void Dist::sum(std::vector<double>& values) const {
  reduce_values(*this, group_, values, c10d::ReduceOp::SUM, "all-reduce (sum)");
}

void Dist::max(std::vector<double>& values) const {
  reduce_values(*this, group_, values, c10d::ReduceOp::MAX, "all-reduce (max)");
}

void Dist::min(std::vector<double>& values) const {
  reduce_values(*this, group_, values, c10d::ReduceOp::MIN, "all-reduce (min)");
}

double Dist::sum(double value) const {
  std::vector<double> v = {value};
  sum(v);
  return v[0];
}

bool Dist::same_on_all_ranks(double value) const {
  if (!active()) return true;
  std::vector<double> highs = {value, -value};
  max(highs);
  return highs[0] == value && -highs[1] == value;
}

void Dist::barrier(double timeout_s) const {
  if (!active()) return;
  c10d::BarrierOptions opts;
  opts.timeout = to_ms(timeout_s > 0 ? timeout_s : env_.timeout_s);
  if (group_->device.is_cuda()) opts.device = group_->device;
  run_collective(env_, "barrier", [&] { return group_->backend->barrier(opts); });
}

const Dist& process_dist(torch::Device device) {
  static std::mutex mu;
  static const Dist* dist = nullptr;  // never destroyed: peers may still be talking at exit
  static bool cuda = false;
  std::lock_guard<std::mutex> lock(mu);
  if (dist == nullptr) {
    dist = new Dist(read_dist_env(), device);
    cuda = device.is_cuda();
  } else if (dist->active()) {
    check(device.is_cuda() == cuda,
          std::string("data parallel: this process's group was made for ") +
              (cuda ? "CUDA (NCCL)" : "CPU (Gloo)") + " training; a later trainer asked for " +
              device.str());
  }
  return *dist;
}

}  // namespace r1
