// Capturing and printing the call chain for get-poetry --stack.
//
// Two ways to walk the stack:
// - libbacktrace (GCC's own, the library std::stacktrace is built on): reads the DWARF debug
//   information, so functions the optimizer inlined still show as frames, and static functions
//   are named. Needs -g (the default RelWithDebInfo build has it).
// - glibc backtrace()/backtrace_symbols(): reads only the dynamic symbol table, so it needs
//   -rdynamic, and inlined or static functions vanish from the chain. The fallback.
#include "call_chain.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#if POETRY_HAVE_LIBBACKTRACE
#include <backtrace.h>
#else
#include <execinfo.h>
#endif

namespace poetry {

namespace {

std::string demangle(const char* name) {
  if (name == nullptr || *name == '\0') return "??";
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

std::string baseName(const char* path) {
  if (path == nullptr) return {};
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

#if POETRY_HAVE_LIBBACKTRACE

backtrace_state* state() {
  // Created once and never freed: libbacktrace has no destructor for its state.
  static backtrace_state* s = backtrace_create_state(
      nullptr, /*threaded=*/1, [](void*, const char*, int) {}, nullptr);
  return s;
}

struct Walk {
  std::vector<Frame> frames;
};

void symbolFound(void* data, uintptr_t, const char* symname, uintptr_t, uintptr_t) {
  *static_cast<std::string*>(data) = demangle(symname);
}

int frameFound(void* data, uintptr_t pc, const char* file, int line, const char* function) {
  auto& walk = *static_cast<Walk*>(data);
  Frame frame;
  if (function != nullptr) {
    frame.function = demangle(function);
  } else {  // no debug information (libc): fall back on the symbol table
    frame.function = "??";
    backtrace_syminfo(
        state(), pc, symbolFound, [](void*, const char*, int) {}, &frame.function);
  }
  if (file != nullptr) frame.location = fmt::format("{}:{}", baseName(file), line);
  walk.frames.push_back(std::move(frame));
  return 0;
}

#endif

}  // namespace

std::vector<Frame> captureCallChain() {
#if POETRY_HAVE_LIBBACKTRACE
  Walk walk;
  if (state() != nullptr) {
    backtrace_full(
        state(), /*skip=*/1, frameFound, [](void*, const char*, int) {}, &walk);
  }
  return walk.frames;
#else
  void* pcs[256];
  int n = backtrace(pcs, 256);
  std::unique_ptr<char*, decltype(&std::free)> symbols(backtrace_symbols(pcs, n), &std::free);
  std::vector<Frame> frames;
  for (int i = 1; i < n; ++i) {  // skip this function
    // "path(mangled+0x1a) [0x55d0c0a5e1a3]"
    std::string text = symbols ? symbols.get()[i] : "";
    auto open = text.find('('), plus = text.find_first_of("+)", open);
    std::string name = open == std::string::npos || plus == std::string::npos
                           ? std::string()
                           : text.substr(open + 1, plus - open - 1);
    frames.push_back({demangle(name.c_str()), {}});
  }
  return frames;
#endif
}

std::vector<Frame> trimCallChain(std::vector<Frame> frames, std::string_view outer,
                                 std::string_view inner) {
  auto has = [](std::string_view marker) {
    return [marker](const Frame& f) { return f.function.find(marker) != std::string::npos; };
  };
  // Outer end first (the last match, scanning from the innermost frame), then the inner end.
  auto outerIt = std::find_if(frames.rbegin(), frames.rend(), has(outer));
  if (outerIt != frames.rend()) frames.erase(outerIt.base(), frames.end());
  auto innerIt = std::find_if(frames.begin(), frames.end(), has(inner));
  if (innerIt != frames.end()) frames.erase(frames.begin(), innerIt);
  return frames;
}

std::string readableName(std::string name) {
  static constexpr std::pair<std::string_view, std::string_view> kShorter[] = {
      {"std::basic_string_view<char, std::char_traits<char> >", "std::string_view"},
      {"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >",
       "std::string"},
  };
  for (auto [from, to] : kShorter) {
    for (auto at = name.find(from); at != std::string::npos; at = name.find(from, at)) {
      name.replace(at, from.size(), to);
      at += to.size();
    }
  }
  return name;
}

std::string formatCallChain(const std::vector<Frame>& innermostFirst) {
  std::string out;
  for (auto it = innermostFirst.rbegin(); it != innermostFirst.rend(); ++it) {
    out += fmt::format("  {}", readableName(it->function));
    if (!it->location.empty()) out += fmt::format("  [{}]", it->location);
    out += '\n';
  }
  return out;
}

}  // namespace poetry
