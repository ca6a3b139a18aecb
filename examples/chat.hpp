// The chat server's protocol and factory (the chat example of "Twisted Network Programming
// Essentials", with nick names and idle timeouts), in a header so tests can drive them on a
// string transport and a fake clock.
//
// Every line a user sends goes to every other user as `<name> text`. Lines starting with '/' are
// commands: `/nick NAME` renames (names are unique), `/quit` leaves. Server notices start with
// "* ". A user silent for the idle timeout is told so and dropped.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <spindle/spindle.hpp>

namespace chat {

class ChatFactory;

/// One user's connection. Talks to the other users through its factory, which it gets in its
/// constructor: ProtocolFor cannot be combined with LineReceiver or TimeoutMixin.
class Chat : public spindle::TimeoutMixin<spindle::LineReceiver> {
 public:
  Chat(ChatFactory& factory, spindle::IReactorTime& clock)
      : TimeoutMixin(clock), factory_(factory) {
    delimiter = "\n";  // a trailing "\r" is stripped, so telnet and nc both work
    MAX_LENGTH = 1024;
  }

  void connectionMade() override;
  void lineReceived(std::string_view line) override;
  void connectionLost(const spindle::Failure& reason) override;
  void timeoutConnection() override;

  /// The name others know this user by; empty until connected.
  const std::string& name() const noexcept { return name_; }

 private:
  void handleCommand(std::string_view command, std::string_view argument);
  void handleNick(std::string_view name);

  ChatFactory& factory_;
  std::string name_;
};

/// Keeps the users (Twisted's `self.users = {}` on the factory) and builds a Chat per connection.
class ChatFactory : public spindle::ServerFactory {
 public:
  /// `idleTimeout`: seconds of silence after which a user is dropped; nullopt for never.
  ChatFactory(spindle::IReactorTime& clock, std::optional<double> idleTimeout)
      : idleTimeout(idleTimeout), clock_(clock) {}

  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<Chat>(*this, clock_);
  }

  /// Adds `user` under a fresh guest name ("guest1", "guest2", ...) and returns that name.
  std::string join(Chat& user) {
    std::string name;
    do {
      name = fmt::format("guest{}", ++guests_);
    } while (users_.contains(name));
    users_.emplace(name, &user);
    return name;
  }
  /// Moves `user` from `from` to `to`; false if `to` is taken.
  bool rename(const std::string& from, const std::string& to) {
    if (users_.contains(to)) return false;
    auto node = users_.extract(from);
    node.key() = to;
    users_.insert(std::move(node));
    return true;
  }
  void leave(const std::string& name) { users_.erase(name); }

  /// Sends `line` to every user except `except`.
  void broadcast(std::string_view line, const Chat* except = nullptr) {
    for (auto& [name, user] : users_) {
      if (user != except) user->sendLine(line);
    }
  }

  /// The users now connected, by name.
  const std::map<std::string, Chat*, std::less<>>& users() const noexcept { return users_; }

  /// Seconds of silence after which a user is dropped; nullopt for never.
  const std::optional<double> idleTimeout;
  /// The longest name /nick accepts.
  static constexpr std::size_t kMaxNameLength = 20;

 private:
  spindle::IReactorTime& clock_;
  std::map<std::string, Chat*, std::less<>> users_;
  int guests_ = 0;
};

/// True for a name of 1..kMaxNameLength ASCII letters, digits, '_' or '-'.
inline bool validName(std::string_view name) {
  if (name.empty() || name.size() > ChatFactory::kMaxNameLength) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

inline void Chat::connectionMade() {
  name_ = factory_.join(*this);
  setTimeout(factory_.idleTimeout);
  sendLine(fmt::format("* Welcome to the chat, {}! Type /nick NAME to change your name.", name_));
  factory_.broadcast(fmt::format("* {} has joined the chat.", name_), this);
}

inline void Chat::lineReceived(std::string_view line) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  if (line.empty()) return;
  if (line.starts_with('/')) {
    auto space = line.find(' ');
    std::string_view argument = space == line.npos ? "" : line.substr(space + 1);
    handleCommand(line.substr(0, space), argument);
    return;
  }
  factory_.broadcast(fmt::format("<{}> {}", name_, line), this);
}

inline void Chat::handleCommand(std::string_view command, std::string_view argument) {
  if (command == "/nick") {
    handleNick(argument);
  } else if (command == "/quit") {
    sendLine("* Goodbye.");
    transport->loseConnection();
  } else {
    sendLine(fmt::format("* Unknown command {}. Commands: /nick NAME, /quit.", command));
  }
}

inline void Chat::handleNick(std::string_view name) {
  if (!validName(name)) {
    sendLine(fmt::format("* Invalid name \"{}\": use 1 to {} letters, digits, '_' or '-'.", name,
                         ChatFactory::kMaxNameLength));
  } else if (name == name_) {
    sendLine(fmt::format("* You are already {}.", name_));
  } else if (!factory_.rename(name_, std::string(name))) {
    sendLine(fmt::format("* The name {} is taken.", name));
  } else {
    std::string old = std::exchange(name_, std::string(name));
    sendLine(fmt::format("* You are now known as {}.", name_));
    factory_.broadcast(fmt::format("* {} is now known as {}.", old, name_), this);
  }
}

inline void Chat::timeoutConnection() {
  sendLine(fmt::format("* You were idle for {} seconds; goodbye.", *timeOut()));
  TimeoutMixin::timeoutConnection();  // closes with IdleTimeoutError, after the line is sent
}

inline void Chat::connectionLost(const spindle::Failure& reason) {
  TimeoutMixin::connectionLost(reason);
  if (name_.empty()) return;
  factory_.leave(name_);
  std::string_view why = reason.check<spindle::ConnectionDone>()     ? ""
                         : reason.check<spindle::IdleTimeoutError>() ? " (idle)"
                                                                     : " (connection lost)";
  factory_.broadcast(fmt::format("* {} has left the chat{}.", name_, why));
}

}  // namespace chat
