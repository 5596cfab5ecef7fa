// RegistryPoller: serve --poll-registry SECONDS. A thread that, every interval, reads the
// small `current` pointer of each registry model (ModelRegistry::ReloadChanged) and swaps in
// the names whose version changed; each outcome with something in it goes to `on_result`
// (the log). The first poll is one interval after the start.
//
// Thread-safety: construct and destroy from one thread; `on_result` runs on the poller's
// thread. Reloads are serialised with SIGHUP's and /admin/reload's by the ModelRegistry.
//
//   RegistryPoller poller(&registry, std::chrono::seconds(30), LogReload);
//   ...
//   poller.Stop();   // or the destructor
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "ipinsights/serve/model_registry.h"

namespace ipinsights {

class RegistryPoller {
 public:
  using Callback = std::function<void(const ModelRegistry::ReloadResult&)>;

  // `registry` must outlive the poller; `interval` is more than zero.
  RegistryPoller(ModelRegistry* registry, std::chrono::milliseconds interval, Callback on_result);
  ~RegistryPoller();
  RegistryPoller(const RegistryPoller&) = delete;
  RegistryPoller& operator=(const RegistryPoller&) = delete;

  // Ends the thread (a poll in progress finishes first). Idempotent.
  void Stop();

 private:
  void Run();

  ModelRegistry* registry_;
  std::chrono::milliseconds interval_;
  Callback on_result_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ipinsights
