// Transport: one connection that moves bytes, as seen by its protocol (Twisted's ITransport).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string_view>

#include "spindle/address.hpp"
#include "spindle/bytes.hpp"
#include "spindle/failure.hpp"

namespace spindle {

/// Something that produces data for a consumer and can be told to slow down (Twisted's
/// IPushProducer; a pull producer, IPullProducer, only ever hears resumeProducing).
class Producer {
 public:
  virtual ~Producer() = default;
  /// The consumer has enough for now: stop producing until resumeProducing().
  virtual void pauseProducing() {}
  /// Produce again (a pull producer: produce one more chunk now).
  virtual void resumeProducing() = 0;
  /// The consumer is gone: stop for good.
  virtual void stopProducing() = 0;
};

/// One connection's byte stream, as its Protocol sees it (Twisted's ITransport). It consumes
/// what a registered Producer writes, pausing it while the write buffer is above its high water
/// mark, and is itself a Producer of the bytes it reads. Every method is called on the reactor's
/// thread, and every one may be called from inside the protocol's own callbacks.
class Transport : public Producer {
 public:
  /// Default water marks of the write buffer.
  static constexpr std::size_t kDefaultHighWater = 64 * 1024;
  static constexpr std::size_t kDefaultLowWater = 16 * 1024;

  ~Transport() override = default;

  /// Queues bytes to send, in order. Never blocks: what the socket cannot take now is buffered.
  /// Writes after the connection is closed are dropped; writes after loseConnection() but before
  /// the close are still sent.
  virtual void write(std::string_view data) = 0;
  /// The same for shared bytes, without copying them: what the socket cannot take now is kept
  /// by reference until sent (a small remainder may still be copied). A transport that cannot
  /// hold references copies, which is this default.
  virtual void write(const SharedBytes& data) { write(data.view()); }
  /// Writes several pieces in order, as one write of their concatenation (no copy when it can).
  virtual void writeSequence(std::span<const std::string_view> data) = 0;
  void writeSequence(std::initializer_list<std::string_view> data) {
    writeSequence(std::span<const std::string_view>(data.begin(), data.size()));
  }

  /// Closes after every buffered byte is sent; the protocol then hears connectionLost with
  /// ConnectionDone. Stops reading at once. Idempotent: the first call's reason wins.
  void loseConnection();
  /// The same, but connectionLost hears `reason`: for a protocol that closes because its peer
  /// broke the protocol (a malformed frame), so the reason names the fault.
  virtual void loseConnection(const Failure& reason) = 0;
  /// Half-closes (TCP's shutdown of the write side; Twisted's loseWriteConnection): once every
  /// buffered byte is sent, sends the FIN, so the peer reads end of stream, while this end goes
  /// on reading. Bytes written before the shutdown happens (later in the same callback, or
  /// buffered) are still sent; writes after it are dropped, and a registered producer is no
  /// longer asked for more. A HalfCloseableProtocol then hears writeConnectionLost(). The
  /// connection ends with ConnectionDone when the peer shuts its side too. Idempotent; does
  /// nothing once loseConnection() or abortConnection() was called. disconnecting() stays false.
  virtual void loseWriteConnection() = 0;
  /// Closes now, discarding buffered bytes; the protocol hears connectionLost with
  /// ConnectionAborted. Idempotent.
  virtual void abortConnection() = 0;

  /// True once loseConnection() or abortConnection() was called, or the connection closed:
  /// a protocol should deliver nothing more (Twisted's `transport.disconnecting`).
  virtual bool disconnecting() const = 0;

  /// The remote end's address.
  virtual Address getPeer() const = 0;
  /// This end's address.
  virtual Address getHost() const = 0;

  /// Stops delivering dataReceived until resumeProducing(); takes effect for the very next read.
  void pauseProducing() override = 0;
  void resumeProducing() override = 0;
  /// Stops for good: the same as loseConnection().
  void stopProducing() override = 0;

  /// Bytes written but not yet handed to the kernel.
  virtual std::size_t bufferedSize() const = 0;

  /// Makes `producer` the source of this transport's writes (Twisted's IConsumer). A streaming
  /// (push) producer is paused when the write buffer grows above the high water mark and
  /// resumed when it drains to the low one; a pull producer (streaming false) is asked for more
  /// with resumeProducing() whenever the buffer is at or below the low mark. When the
  /// connection is lost the producer hears stopProducing(). The producer must outlive its
  /// registration (unregister it, or let the connection end, before destroying it).
  /// Throws Error if a producer is already registered.
  virtual void registerProducer(Producer& producer, bool streaming) = 0;
  virtual void unregisterProducer() = 0;
  /// Sets the water marks (low <= high; throws Error otherwise).
  virtual void setWriteBufferWaterMarks(std::size_t high, std::size_t low) = 0;

  /// Disables (true) or enables Nagle's algorithm. No effect on transports that are not TCP.
  virtual void setTcpNoDelay(bool enabled) = 0;
  virtual bool getTcpNoDelay() const = 0;
  /// Enables TCP keep-alive probes. No effect on transports that are not TCP.
  virtual void setTcpKeepAlive(bool enabled) = 0;
  virtual bool getTcpKeepAlive() const = 0;
};

}  // namespace spindle
