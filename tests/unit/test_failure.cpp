// Failure and the error hierarchy: check<>/trap<> follow the real types, and a Failure reports
// the message, the demangled type name and the errno of what it holds.
#include <cerrno>
#include <optional>
#include <stdexcept>
#include <system_error>

#include <gtest/gtest.h>

#include "spindle/failure.hpp"

namespace spindle {
namespace {

std::error_code sys(int e) {
  return {e, std::system_category()};
}

TEST(Failure, ConnectionAbortedIsAConnectionLost) {
  Failure f{ConnectionAborted()};
  EXPECT_TRUE(f.check<ConnectionAborted>());
  EXPECT_TRUE(f.check<ConnectionLost>());
  EXPECT_TRUE(f.check<ConnectionClosed>());
  EXPECT_TRUE(f.check<SystemError>());
  EXPECT_TRUE(f.check<Error>());
  EXPECT_TRUE(f.check<std::runtime_error>());
  EXPECT_TRUE(f.check<std::exception>());
  EXPECT_FALSE(f.check<ConnectionDone>());
  EXPECT_FALSE(f.check<ConnectError>());
}

TEST(Failure, ConnectionDoneIsNotAConnectionLost) {
  Failure f{ConnectionDone()};
  EXPECT_TRUE(f.check<ConnectionDone>());
  EXPECT_TRUE(f.check<ConnectionClosed>());
  EXPECT_FALSE(f.check<ConnectionLost>());
  EXPECT_FALSE(f.check<ConnectionAborted>());
}

TEST(Failure, ConnectErrorsAreNotConnectionClosed) {
  EXPECT_TRUE(Failure{ConnectionRefusedError()}.check<ConnectError>());
  EXPECT_TRUE(Failure{TimeoutError()}.check<ConnectError>());
  EXPECT_TRUE(Failure{DNSLookupError("no such host")}.check<ConnectError>());
  EXPECT_TRUE(Failure{UserError()}.check<ConnectError>());
  EXPECT_FALSE(Failure{TimeoutError()}.check<ConnectionClosed>());
  EXPECT_FALSE(Failure{TimeoutError()}.check<ConnectionRefusedError>());
}

TEST(Failure, MisuseErrorsAreErrors) {
  EXPECT_TRUE(Failure{AlreadyCalled()}.check<Error>());
  EXPECT_TRUE(Failure{AlreadyCancelled()}.check<Error>());
  EXPECT_TRUE(Failure{ReactorNotRunning()}.check<Error>());
  EXPECT_TRUE(Failure{ReactorAlreadyRunning()}.check<Error>());
  EXPECT_TRUE(Failure{ReactorNotRestartable()}.check<Error>());
  EXPECT_TRUE(Failure{CancelledError()}.check<Error>());
  EXPECT_FALSE(Failure{AlreadyCalled()}.check<AlreadyCancelled>());
  EXPECT_TRUE(Failure{CannotListenError("127.0.0.1", 80, sys(EACCES))}.check<SystemError>());
}

TEST(Failure, TrapPassesMatchingTypesAndRethrowsOthers) {
  Failure aborted{ConnectionAborted()};
  EXPECT_NO_THROW(aborted.trap<ConnectionLost>());
  EXPECT_NO_THROW(aborted.trap<ConnectionAborted>());
  EXPECT_THROW(aborted.trap<ConnectionDone>(), ConnectionAborted);

  Failure done{ConnectionDone()};
  EXPECT_NO_THROW(done.trap<ConnectionClosed>());
  EXPECT_THROW(done.trap<ConnectionLost>(), ConnectionDone);
}

TEST(Failure, RaiseExceptionRethrowsTheOriginalType) {
  Failure f{TimeoutError()};
  EXPECT_THROW(f.raiseException(), TimeoutError);
  Failure copy = f;
  EXPECT_THROW(copy.raiseException(), TimeoutError);
  EXPECT_EQ(copy.value(), f.value()) << "copies share one exception object";
}

TEST(Failure, FromCurrentException) {
  std::optional<Failure> f;
  try {
    throw ConnectionLost("gone", sys(ECONNRESET));
  } catch (...) {
    f.emplace(std::current_exception());
  }
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->check<ConnectionLost>());
  EXPECT_EQ(f->getErrorMessage().rfind("gone", 0), 0u) << f->getErrorMessage();
  EXPECT_EQ(f->code(), sys(ECONNRESET));
}

TEST(Failure, HoldsExceptionsNotDerivedFromStdException) {
  Failure f(std::make_exception_ptr(42));
  EXPECT_TRUE(f.check<int>());
  EXPECT_FALSE(f.check<std::exception>());
  EXPECT_FALSE(f.code());
  EXPECT_THROW(f.raiseException(), int);
  (void)f.toString();  // describes it somehow, without throwing
}

TEST(Failure, GetErrorMessageIsWhat) {
  Failure f{std::runtime_error("something broke")};
  EXPECT_EQ(f.getErrorMessage(), "something broke");
  ConnectionDone done;
  EXPECT_EQ(Failure{done}.getErrorMessage(), done.what());
  EXPECT_FALSE(Failure{done}.getErrorMessage().empty()) << "what() is a sentence for people";
  EXPECT_EQ(Failure{ConnectionDone("bye")}.getErrorMessage(), "bye");
}

TEST(Failure, DetailsAppearInTheMessage) {
  EXPECT_NE(Failure{DNSLookupError("no.such.host")}.getErrorMessage().find("no.such.host"),
            std::string::npos);
  EXPECT_NE(Failure{ConnectError("custom reason")}.getErrorMessage().find("custom reason"),
            std::string::npos);
}

TEST(Failure, TypeNameIsDemangled) {
  EXPECT_EQ(Failure{ConnectionDone()}.typeName(), "spindle::ConnectionDone");
  EXPECT_EQ(Failure{ConnectionAborted()}.typeName(), "spindle::ConnectionAborted");
  EXPECT_EQ(Failure{TimeoutError()}.typeName(), "spindle::TimeoutError");
  EXPECT_EQ(Failure{std::runtime_error("x")}.typeName(), "std::runtime_error");
}

TEST(Failure, ToStringIsTypeNameColonMessage) {
  Failure f{ConnectionDone("bye")};
  EXPECT_EQ(f.toString(), "spindle::ConnectionDone: bye");
  Failure g{std::logic_error("oops")};
  EXPECT_EQ(g.toString(), "std::logic_error: oops");
}

TEST(Failure, CodeCarriesErrno) {
  Failure lost{ConnectionLost(sys(ECONNRESET))};
  EXPECT_EQ(lost.code(), sys(ECONNRESET));
  EXPECT_EQ(lost.code().value(), ECONNRESET);
  EXPECT_EQ(lost.code().category(), std::system_category());

  Failure listen{CannotListenError("127.0.0.1", 80, sys(EADDRINUSE))};
  EXPECT_EQ(listen.code().value(), EADDRINUSE);

  SystemError se("write failed", sys(EPIPE));
  EXPECT_EQ(se.code(), sys(EPIPE));
  EXPECT_EQ(Failure{se}.code(), sys(EPIPE));
}

TEST(Failure, CodeIsEmptyWithoutErrno) {
  EXPECT_FALSE(Failure{std::runtime_error("x")}.code());
  EXPECT_FALSE(Failure{ConnectionLost()}.code());
  EXPECT_FALSE(Failure{AlreadyCalled()}.code());
}

}  // namespace
}  // namespace spindle
