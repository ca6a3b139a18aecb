// Internal: TcpConnection, the transport of one connected TCP socket (both client and server).
#pragma once

#include <cstdint>
#include <memory>

#include "spindle/protocol.hpp"
#include "spindle/reactor.hpp"
#include "spindle/transport.hpp"
#include "write_buffer.hpp"

namespace spindle::detail {

/// Told when a connection it owns has been lost, after the protocol's connectionLost; also
/// keeps alive what the protocol may use (its factory). One is shared by many connections.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  virtual void connectionLost(const Failure& reason) { (void)reason; }
};

/// One connected socket and its protocol. Owned by the reactor from open() until the end of
/// the step in which its protocol heard connectionLost. Loop thread only.
class TcpConnection final : public FileDescriptor, public Transport {
 public:
  /// Makes the transport for connected socket `fd` and has the reactor own it. `host` may be
  /// empty: it is then looked up when asked for.
  static TcpConnection& create(Reactor& reactor, int fd, Address host, Address peer,
                               std::unique_ptr<Protocol> protocol,
                               std::shared_ptr<ConnectionOwner> owner);
  /// Calls the protocol's makeConnection (connectionMade), then starts reading.
  void start();

  TcpConnection(Reactor& reactor, int fd, Address host, Address peer,
                std::unique_ptr<Protocol> protocol, std::shared_ptr<ConnectionOwner> owner);
  ~TcpConnection() override;

  // FileDescriptor
  int fileno() const override { return fd_; }
  void doRead() override;
  void doWrite() override;
  void connectionLost(const Failure& reason) override { closeWith(reason); }

  // Transport
  void write(std::string_view data) override;
  void write(const SharedBytes& data) override;
  void writeSequence(std::span<const std::string_view> data) override;
  using Transport::loseConnection;
  using Transport::writeSequence;
  void loseConnection(const Failure& reason) override;
  void loseWriteConnection() override;
  void abortConnection() override;
  bool disconnecting() const override { return state_ != State::Connected; }
  Address getPeer() const override { return peer_; }
  /// Accepted connections learn their local address on first use (a syscall spared per accept).
  Address getHost() const override;
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override { loseConnection(); }

  std::size_t bufferedSize() const override { return out_ ? out_->size() : 0; }
  void registerProducer(Producer& producer, bool streaming) override;
  void unregisterProducer() override;
  void setWriteBufferWaterMarks(std::size_t high, std::size_t low) override;
  void setTcpNoDelay(bool enabled) override;
  bool getTcpNoDelay() const override;
  void setTcpKeepAlive(bool enabled) override;
  bool getTcpKeepAlive() const override;

 private:
  enum class State { Connected, Disconnecting, Closed };

  // The registered producer and the water marks; allocated only when either is used.
  struct FlowControl {
    Producer* producer = nullptr;
    bool streaming = false;
    bool paused = false;
    std::size_t high = kDefaultHighWater;
    std::size_t low = kDefaultLowWater;
  };
  FlowControl& flow();
  void buffered(std::string_view rest);
  void afterBuffering();  // the writer watch and the producer's pause, after bytes were queued
  void producerMayResume();

  /// Sends what the kernel takes now; returns false if the connection failed (and is closing).
  bool sendNow(std::string_view data, std::size_t& sent);
  /// The same for the buffer's segments at once (one sendmsg).
  bool sendGathered(std::size_t& sent);
  void closeClean();  // after the flush that loseConnection asked for
  void readEnded();   // the peer's FIN
  void shutWrite();   // after the flush that loseWriteConnection asked for
  bool writeShutPending() const noexcept { return writeShutAsked_ && !writeShut_; }
  void setReason(const Failure& reason);
  const Failure* reason() const noexcept;
  void closeWith(const Failure& reason);
  void notifyLost();
  void protocolFailed(const char* callback);
  bool setOption(int level, int name, bool enabled);
  bool getOption(int level, int name) const;

  // Laid out for idle connections to stay small: buffers and close state exist only while used.
  Reactor& reactor_;
  int fd_;
  State state_ = State::Connected;
  bool paused_ = false;
  // Half-close: loseWriteConnection was called; our write side is shut; the peer's FIN reached a
  // HalfCloseableProtocol (the connection then stays open without reading).
  bool writeShutAsked_ = false, writeShut_ = false, readShut_ = false;
  // Why it closes (set by loseConnection(reason) or the close); kept in the padding here.
  enum class Reason : std::uint8_t { None, Done, Aborted, Owned };
  Reason reason_ = Reason::None;
  mutable Address host_;  // empty until getHost() asks, when the accepting port could not tell
  Address peer_;
  std::unique_ptr<Protocol> protocol_;
  std::shared_ptr<ConnectionOwner> owner_;
  std::unique_ptr<WriteBuffer> out_;      // only while the kernel holds back some bytes
  std::unique_ptr<Failure> ownedReason_;  // a reason that is not one of the shared ones
  std::unique_ptr<FlowControl> flow_;
};

}  // namespace spindle::detail
