// Internal: the Failures every connection ends with, built once and shared, so closing a
// connection allocates nothing for its reason.
#pragma once

#include "spindle/failure.hpp"

namespace spindle::detail {

const Failure& connectionDoneFailure();
const Failure& connectionAbortedFailure();

}  // namespace spindle::detail
