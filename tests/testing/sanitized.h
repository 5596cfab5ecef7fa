// kSanitized: true in ASan and TSan builds (gcc's __SANITIZE_* macros, clang's
// __has_feature), where tests that cap address space or time tight bounds must step aside.
#pragma once

namespace ipinsights::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace ipinsights::testing
