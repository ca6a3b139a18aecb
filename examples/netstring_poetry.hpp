// The poetry server and client of the Twisted tutorial, rewritten on NetstringReceiver: a poem
// travels as two netstrings, its title and then its text, and the server closes after them.
// In a header so tests can drive both protocols on a string transport.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <spindle/spindle.hpp>

namespace netstring_poetry {

/// The longest title or poem the client accepts (NetstringReceiver::MAX_LENGTH).
inline constexpr std::size_t kMaxLength = 16 * 1024 * 1024;

// --- The server -------------------------------------------------------------------------------

class PoetryServerFactory;

/// Sends the title and the poem as two netstrings, then closes (after they are flushed).
class PoetryServer : public spindle::NetstringReceiver {
 public:
  explicit PoetryServer(const PoetryServerFactory& factory) : factory_(factory) {}
  void connectionMade() override;
  /// Clients have nothing to say; what they send is ignored.
  void stringReceived(std::string_view) override {}

 private:
  const PoetryServerFactory& factory_;
};

/// Holds the poem every connection gets (Twisted's `self.factory.poem`).
class PoetryServerFactory : public spindle::ServerFactory {
 public:
  PoetryServerFactory(std::string title, std::string poem)
      : title(std::move(title)), poem(std::move(poem)) {}
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<PoetryServer>(*this);
  }
  const std::string title;
  const std::string poem;
};

inline void PoetryServer::connectionMade() {
  sendString(factory_.title);
  sendString(factory_.poem);
  transport->loseConnection();
}

// --- The client -------------------------------------------------------------------------------

/// How one download ended.
struct PoemResult {
  int task = 0;               ///< 1-based, in the order of the command line.
  spindle::HostPort address;  ///< As given on the command line.
  bool ok = false;            ///< Both netstrings arrived and the server closed cleanly.
  std::string title, poem;    ///< What arrived.
  std::string error;          ///< Why it failed, when !ok.
};

class PoetryClientFactory;

/// Receives the title and the poem; a third netstring is a protocol error.
class PoetryClient : public spindle::NetstringReceiver {
 public:
  explicit PoetryClient(PoetryClientFactory& factory) : factory_(factory) {
    MAX_LENGTH = kMaxLength;
  }
  void stringReceived(std::string_view string) override;
  void connectionLost(const spindle::Failure& reason) override;

 private:
  PoetryClientFactory& factory_;
  int received_ = 0;
  std::string title_, poem_;
};

/// Downloads one poem and reports how it went, exactly once, through `done`.
class PoetryClientFactory : public spindle::ClientFactory {
 public:
  PoetryClientFactory(int task, spindle::HostPort address,
                      std::function<void(const PoemResult&)> done)
      : task_(task), address_(std::move(address)), done_(std::move(done)) {}

  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<PoetryClient>(*this);
  }
  void clientConnectionFailed(spindle::Connector&, const spindle::Failure& reason) override {
    finish(false, {}, {}, "failed to connect: " + reason.getErrorMessage());
  }

  /// Called by the protocol when its connection ends.
  void finish(bool ok, std::string title, std::string poem, std::string error) {
    done_(PoemResult{task_, address_, ok, std::move(title), std::move(poem), std::move(error)});
  }

 private:
  int task_;
  spindle::HostPort address_;
  std::function<void(const PoemResult&)> done_;
};

inline void PoetryClient::stringReceived(std::string_view string) {
  switch (++received_) {
    case 1:
      title_ = string;
      break;
    case 2:
      poem_ = string;
      break;
    default:
      transport->loseConnection(
          spindle::Failure(spindle::ProtocolError("the server sent more than a title and a poem")));
  }
}

inline void PoetryClient::connectionLost(const spindle::Failure& reason) {
  if (!reason.check<spindle::ConnectionDone>()) {
    factory_.finish(false, title_, poem_, "connection lost: " + reason.getErrorMessage());
  } else if (received_ < 2) {
    factory_.finish(false, title_, poem_,
                    received_ == 0 ? "the server closed without sending a poem"
                                   : "the server closed after the title, without the poem");
  } else {
    factory_.finish(true, title_, poem_, {});
  }
}

/// The number of UTF-8 code points in `text`: its bytes that are not continuation bytes.
inline std::size_t countCharacters(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace netstring_poetry
