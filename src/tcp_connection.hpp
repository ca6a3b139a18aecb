// Internal: TcpConnection, the transport of one connected TCP socket (both client and server).
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "spindle/protocol.hpp"
#include "spindle/reactor.hpp"
#include "spindle/transport.hpp"
#include "write_buffer.hpp"

namespace spindle::detail {

/// One connected socket and its protocol. Owned by the reactor from start() until the end of
/// the step in which its protocol heard connectionLost. Loop thread only.
class TcpConnection final : public FileDescriptor,
                            public Transport,
                            public std::enable_shared_from_this<TcpConnection> {
 public:
  /// Called after the protocol's connectionLost, with the same reason (client connectors).
  using LostHook = std::function<void(const Failure&)>;

  TcpConnection(Reactor& reactor, int fd, Address host, Address peer,
                std::unique_ptr<Protocol> protocol, LostHook onLost);
  ~TcpConnection() override;

  /// Registers with the reactor and calls the protocol's makeConnection.
  void start();

  // FileDescriptor
  int fileno() const override { return fd_; }
  void doRead() override;
  void doWrite() override;
  void connectionLost(const Failure& reason) override { closeWith(reason); }

  // Transport
  void write(std::string_view data) override;
  void writeSequence(std::span<const std::string_view> data) override;
  using Transport::loseConnection;
  using Transport::writeSequence;
  void loseConnection(const Failure& reason) override;
  void abortConnection() override;
  bool disconnecting() const override { return state_ != State::Connected; }
  Address getPeer() const override { return peer_; }
  Address getHost() const override { return host_; }
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override { loseConnection(); }

  std::size_t bufferedSize() const override { return out_.size(); }
  void setTcpNoDelay(bool enabled) override;
  bool getTcpNoDelay() const override;
  void setTcpKeepAlive(bool enabled) override;
  bool getTcpKeepAlive() const override;

 private:
  enum class State { Connected, Disconnecting, Closed };

  /// Sends what the kernel takes now; returns false if the connection failed (and is closing).
  bool sendNow(std::string_view data, std::size_t& sent);
  void closeClean();  // after the flush that loseConnection asked for
  void closeWith(const Failure& reason);
  void notifyLost();
  void protocolFailed(const char* callback);
  bool setOption(int level, int name, bool enabled);
  bool getOption(int level, int name) const;

  Reactor& reactor_;
  int fd_;
  Address host_, peer_;
  std::unique_ptr<Protocol> protocol_;
  LostHook onLost_;
  WriteBuffer out_;
  State state_ = State::Connected;
  bool paused_ = false;
  std::optional<Failure> reason_;       // why it closed, for connectionLost
  std::optional<Failure> closeReason_;  // what loseConnection asked connectionLost to hear
};

}  // namespace spindle::detail
