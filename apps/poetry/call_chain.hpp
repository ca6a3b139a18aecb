// The call chain of the current thread, for get-poetry --stack (the tutorial's
// get-poetry-stack.py): which layers of the reactor led to a protocol callback.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace poetry {

/// One frame of a call chain: a demangled function name and, when known, where it is.
struct Frame {
  std::string function;  ///< Demangled ("spindle::Reactor::run(spindle::RunOptions)"), or "??".
  std::string location;  ///< "reactor.cpp:123" from the debug information, or empty.
};

/// The current call chain, innermost first (this function's own frames excluded).
/// With libbacktrace (POETRY_HAVE_LIBBACKTRACE) names come from DWARF and inlined calls appear as
/// frames of their own; with the glibc fallback only exported, non-inlined functions are named.
std::vector<Frame> captureCallChain();

/// Keeps the frames from the outermost one whose name contains `outer` down to the innermost
/// one whose name contains `inner` (frames given innermost first, as captured). A marker that is
/// not found leaves that end untrimmed.
std::vector<Frame> trimCallChain(std::vector<Frame> frames, std::string_view outer,
                                 std::string_view inner);

/// Shortens the spellings that make demangled C++ names hard to read
/// ("std::basic_string_view<char, std::char_traits<char> >" becomes "std::string_view").
std::string readableName(std::string name);

/// The chain as text, outermost first and innermost last (as Python's traceback prints),
/// one frame per line.
std::string formatCallChain(const std::vector<Frame>& innermostFirst);

}  // namespace poetry
