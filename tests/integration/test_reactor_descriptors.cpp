// Watching raw descriptors (addReader/addWriter/remove*): events arrive while watched, never
// after removal (even when already collected), and shutdown tells what is still registered.
#include <fcntl.h>
#include <unistd.h>

#include "support.hpp"

namespace spindle::test {
namespace {

/// One end of a pipe as a FileDescriptor, counting its events.
class PipeEnd : public FileDescriptor {
 public:
  explicit PipeEnd(int fd) : fd_(fd) {}
  int fileno() const override { return fd_.get(); }
  void doRead() override {
    ++reads;
    char buf[256];
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n > 0) data.append(buf, static_cast<size_t>(n));
    if (onRead) onRead();
  }
  void doWrite() override {
    ++writes;
    if (onWrite) onWrite();
  }
  void connectionLost(const Failure&) override { ++lost; }

  int reads = 0, writes = 0, lost = 0;
  std::string data;
  std::function<void()> onRead, onWrite;

 private:
  Fd fd_;
};

struct Pipe {
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    reader = std::make_unique<PipeEnd>(fds[0]);
    writer = std::make_unique<PipeEnd>(fds[1]);
  }
  void send(std::string_view s) {
    ASSERT_EQ(::write(writer->fileno(), s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  std::unique_ptr<PipeEnd> reader, writer;
};

TEST(ReactorDescriptors, ReaderGetsDoReadWhileWatched) {
  Pipe p;  // declared first: it outlives the reactor that watches it
  Reactor reactor;
  armWatchdog(reactor);
  p.reader->onRead = [&] {
    if (p.reader->data == "ping") {
      reactor.removeReader(*p.reader);
      EXPECT_FALSE(reactor.isReading(*p.reader));
      reactor.stop();
    }
  };
  reactor.addReader(*p.reader);
  EXPECT_TRUE(reactor.isReading(*p.reader));
  EXPECT_FALSE(reactor.isWriting(*p.reader));
  reactor.callLater(0, [&] { p.send("ping"); });
  reactor.run();
  EXPECT_EQ(p.reader->data, "ping");
  EXPECT_EQ(p.reader->lost, 0) << "it was removed before shutdown";
}

TEST(ReactorDescriptors, WriterGetsDoWriteWhileWatched) {
  Pipe p;  // declared first: it outlives the reactor that watches it
  Reactor reactor;
  armWatchdog(reactor);
  p.writer->onWrite = [&] {
    reactor.removeWriter(*p.writer);
    reactor.callLater(0.01, [&] { reactor.stop(); });
  };
  reactor.addWriter(*p.writer);
  EXPECT_TRUE(reactor.isWriting(*p.writer));
  reactor.run();
  EXPECT_EQ(p.writer->writes, 1) << "no doWrite after removeWriter";
  EXPECT_FALSE(reactor.isWriting(*p.writer));
}

TEST(ReactorDescriptors, ReadingAndWritingAreIndependent) {
  Pipe p;
  Reactor reactor;
  reactor.addReader(*p.reader);
  reactor.addWriter(*p.reader);
  EXPECT_TRUE(reactor.isReading(*p.reader));
  EXPECT_TRUE(reactor.isWriting(*p.reader));
  reactor.removeWriter(*p.reader);
  EXPECT_TRUE(reactor.isReading(*p.reader));
  EXPECT_FALSE(reactor.isWriting(*p.reader));
  reactor.addWriter(*p.reader);
  reactor.removeAll(*p.reader);
  EXPECT_FALSE(reactor.isReading(*p.reader));
  EXPECT_FALSE(reactor.isWriting(*p.reader));
}

TEST(ReactorDescriptors, RemovedDescriptorGetsNoEventAlreadyCollected) {
  // Both pipes are readable in the same batch; whichever is handled first removes the other and
  // destroys it, which must then get no event (under ASan a stale one is a use-after-free).
  Pipe a, b;
  Reactor reactor;
  armWatchdog(reactor);
  int handled = 0;
  auto makeHandler = [&](Pipe& self, Pipe& other) {
    return [&] {
      ++handled;
      reactor.removeAll(*self.reader);
      if (other.reader) {
        reactor.removeAll(*other.reader);
        other.reader.reset();
      }
      reactor.callLater(0.01, [&] { stopIfRunning(reactor); });
    };
  };
  a.reader->onRead = makeHandler(a, b);
  b.reader->onRead = makeHandler(b, a);
  reactor.addReader(*a.reader);
  reactor.addReader(*b.reader);
  reactor.callLater(0, [&] {
    a.send("x");
    b.send("y");
  });
  reactor.run();
  EXPECT_EQ(handled, 1);
}

TEST(ReactorDescriptors, ShutdownTellsRegisteredDescriptors) {
  Pipe p;  // declared first: it outlives the reactor that watches it
  Reactor reactor;
  armWatchdog(reactor);
  reactor.addReader(*p.reader);
  reactor.addWriter(*p.writer);
  p.writer->onWrite = [&] { reactor.removeWriter(*p.writer); };
  reactor.callLater(0.01, [&] { reactor.stop(); });
  reactor.run();
  EXPECT_EQ(p.reader->lost, 1) << "still registered at shutdown";
  EXPECT_EQ(p.writer->lost, 0) << "removed before shutdown";
}

TEST(ReactorDescriptors, ResolverIsTheInstalledOne) {
  Reactor reactor;
  auto fake = std::make_shared<testing::FakeResolver>();
  reactor.installResolver(fake);
  EXPECT_EQ(&reactor.resolver(), fake.get());
}

}  // namespace
}  // namespace spindle::test
