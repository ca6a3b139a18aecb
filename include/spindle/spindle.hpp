// The whole public API of spindle in one include.
#pragma once

#include "spindle/address.hpp"
#include "spindle/basic.hpp"
#include "spindle/delayed_call.hpp"
#include "spindle/factory.hpp"
#include "spindle/failure.hpp"
#include "spindle/log.hpp"
#include "spindle/policies.hpp"
#include "spindle/protocol.hpp"
#include "spindle/reactor.hpp"
#include "spindle/resolver.hpp"
#include "spindle/task.hpp"
#include "spindle/tcp.hpp"
#include "spindle/transport.hpp"
