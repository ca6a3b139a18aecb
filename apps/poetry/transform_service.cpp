// The transforms of the transform server and the service that names them.
#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "transform.hpp"

namespace poetry {

namespace {

// A transform name as it may appear in a log: at most 40 bytes, unprintable bytes as '?'.
std::string printable(std::string_view name) {
  constexpr std::size_t kShown = 40;
  std::string out;
  for (unsigned char c : name.substr(0, kShown))
    out += c >= ' ' && c < 0x7f ? static_cast<char>(c) : '?';
  if (name.size() > kShown) out += "...";
  return out;
}

// True for the first byte of a UTF-8 character: not a continuation byte (10xxxxxx).
bool startsCharacter(unsigned char c) noexcept {
  return (c & 0xC0) != 0x80;
}

}  // namespace

BadRequestError::BadRequestError()
    : ProtocolError("request has no '.' between the transform's name and the poem") {}

UnknownTransformError::UnknownTransformError(std::string_view name)
    : ProtocolError(fmt::format("no transform named \"{}\"", printable(name))) {}

TransformService TransformService::standard() {
  TransformService service;
  service.add("cummingsify", cummingsify);
  service.add("explode", explode);
  service.add("reverse", reverse);
  service.add("uppercase", uppercase);
  return service;
}

void TransformService::add(std::string name, Transform transform) {
  if (name.empty() || name.find('.') != std::string::npos) {
    throw std::invalid_argument(fmt::format("invalid transform name \"{}\"", printable(name)));
  }
  transforms_.insert_or_assign(std::move(name), std::move(transform));
}

bool TransformService::has(std::string_view name) const {
  return transforms_.find(name) != transforms_.end();
}

std::vector<std::string> TransformService::names() const {
  std::vector<std::string> out;
  for (const auto& [name, transform] : transforms_)
    out.push_back(name);
  return out;
}

std::string TransformService::transform(std::string_view name, std::string_view poem) const {
  auto it = transforms_.find(name);
  if (it == transforms_.end()) throw UnknownTransformError(name);
  return it->second(poem);
}

std::string cummingsify(std::string_view poem) {
  std::string out(poem);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string uppercase(std::string_view poem) {
  std::string out(poem);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string reverse(std::string_view poem) {
  std::string out;
  out.reserve(poem.size());
  // Walk back from the end, copying each character (a start byte and its continuations) whole.
  std::size_t end = poem.size();
  while (end > 0) {
    std::size_t start = end - 1;
    while (start > 0 && !startsCharacter(static_cast<unsigned char>(poem[start])))
      --start;
    out.append(poem.substr(start, end - start));
    end = start;
  }
  return out;
}

std::string explode(std::string_view) {
  throw TransformFailed("the explode transform always fails");
}

std::optional<TransformRequest> parseRequest(std::string_view request) {
  auto dot = request.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  return TransformRequest{request.substr(0, dot), request.substr(dot + 1)};
}

}  // namespace poetry
