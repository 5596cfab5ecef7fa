#include "ipinsights/serve/registry_poller.h"

#include <exception>
#include <utility>

namespace ipinsights {

RegistryPoller::RegistryPoller(ModelRegistry* registry, std::chrono::milliseconds interval,
                               Callback on_result)
    : registry_(registry), interval_(interval), on_result_(std::move(on_result)) {
  thread_ = std::thread([this] { Run(); });
}

RegistryPoller::~RegistryPoller() { Stop(); }

void RegistryPoller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RegistryPoller::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (wake_.wait_for(lock, interval_, [this] { return stop_; })) return;
    lock.unlock();
    ModelRegistry::ReloadResult result;
    try {
      result = registry_->ReloadChanged();
    } catch (const std::exception& e) {
      // ReloadChanged reports per model; this is only a last guard for the thread.
      result.failed.push_back(std::string("registry poll: ") + e.what());
    }
    if (on_result_ && (!result.reloaded.empty() || !result.failed.empty())) on_result_(result);
    lock.lock();
  }
}

}  // namespace ipinsights
