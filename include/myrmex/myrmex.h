// Myrmex: Erlang/OTP-style processes for C++20. Include this one header.
//
// The names live in myrmex::<folder> (myrmex::vm, myrmex::mailbox, myrmex::scheduler, myrmex::registry); the
// ones a program uses every day are also available directly in myrmex::. send() and monitor() take a Pid
// (vm/) or a registered name (registry/): myrmex::send(pid, x) and myrmex::send("name", x) both resolve.
#pragma once

#include "dist/codec.h"
#include "dist/etf.h"
#include "dist/message_codec.h"
#include "mailbox/message.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"
#include "supervisor/gen_server.h"
#include "supervisor/hot_swap.h"
#include "supervisor/logger.h"
#include "supervisor/supervisor.h"
#include "vm/code.h"
#include "vm/node.h"
#include "vm/process.h"
#include "vm/term.h"
#include "vm/term_parse.h"

namespace myrmex {

// The code server (vm/code.h): myrmex::code::load_library(), code::swap(), code::purge(), ...
namespace code = vm::code;

using mailbox::Message;
using mailbox::Overflow;
using mailbox::SendResult;
using registry::monitor;
using registry::NameError;
using registry::register_name;
using registry::registered;
using registry::send;
using registry::unregister_name;
using registry::whereis;
using scheduler::SchedulerConfig;
using scheduler::SchedulerStats;
using vm::after;
using vm::alive;
using vm::Behaviour;
using vm::blocking;
using vm::call;
using vm::CallError;
using vm::consume;
using vm::demonitor;
using vm::DemonitorFlush;
using vm::Down;
using vm::exit;
using vm::Exit;
using vm::ExitUnwind;
using vm::Expected;
using vm::flush;
using vm::link;
using vm::make_ref;
using vm::monitor;
using vm::MonitorRef;
using vm::Node;
using vm::node_info;
using vm::NodeConfig;
using vm::NodeInfo;
using vm::NoProc;
using vm::parse_term;
using vm::ParseError;
using vm::Pid;
using vm::process_info;
using vm::ProcessInfo;
using vm::ProcessStatus;
using vm::receive;
using vm::Ref;
using vm::reply;
using vm::Reply;
using vm::Request;
using vm::RequestOf;
using vm::self;
using vm::send;
using vm::set_trap_exit;
using vm::sleep_for;
using vm::spawn;
using vm::spawn_behaviour;
using vm::spawn_link;
using vm::spawn_monitor;
using vm::spawn_opt;
using vm::SpawnOptions;
using vm::Term;
using vm::Unexpected;
using vm::unexpected;
using vm::unlink;
using vm::when;
using vm::yield;
namespace atoms = vm::atoms;

}  // namespace myrmex
