%% Erlang/OTP side of the Myrmex benchmark suite: workloads W1-W6, W8 and W9 of ../shared/BENCH.md (from the
%% repository root), an idle check, the term codec (terms), hot swap and the Savina programs
%% (bench/programs/). Each figure is one JSON line on stdout, in the same format and with the same params
%% text as the C++ side, so bench/run can pair them.
%%
%% Build and run (S = scheduler count; pass the same value as schedulers=):
%%
%%   erlc -o OUTDIR bench/erlang/myrmex_bench.erl bench/programs/*.erl
%%   erl -noshell +S S:S +P 20000000 -pa OUTDIR -run myrmex_bench main <workload> key=value ...
%%
%% Workloads and their arguments (defaults in brackets; schedulers defaults to schedulers_online):
%%   w1   n=[1000000] schedulers=                     spawn / memory / exit; one repetition per OS process
%%   w2   n=[10000] m=[100] schedulers= reps=[3]      ring: setup per process, token hop
%%   w3   round_trips=[1000000] schedulers= reps=[3]  ping-pong
%%   w4   k=[4] m=[1000000] schedulers= reps=[3]      fan-in of k senders into one receiver
%%   w5   calls=[10000] schedulers= reps=[3]          call latency: empty, caller_100k, server_100k,
%%                                                    gen_server (OTP's gen_server:call to a gen_server)
%%   w6   round_trips=[100000] reps=[3]               ping-pong beside 0 and 1 spinner; run with +S 1:1
%%   w8   cycles=[10000] schedulers=                 supervisor restart cycles (one run of `cycles`)
%%   w9   cycles=[100000] links=[100000] schedulers= reps=[3]
%%                                                    spawn_monitor/DOWN cycles; exit fan-out to links
%%   idle n=[1000000] seconds=[10] schedulers=        CPU use of n blocked processes
%%   terms reps=[3]                                   term_to_binary/binary_to_term of three shapes
%%   swap_one swaps=[2000] schedulers= reps=[3]       swap one idle gen_server back and forth
%%   swap_all n=[100000] schedulers= reps=[3]         swap n idle gen_servers of one module
%%   swap_calls clients=[2] ms=[1000] schedulers= reps=[3]
%%                                                    calls/s and latency while the server is swapped
%%   savina_<name> <its keys> schedulers= reps=[3]    a Savina program, bench/programs/savina_<name>.erl
%%
%% A Savina program is a module savina_<name> (compiled into OUTDIR with bench/programs/*.erl) that
%% exports spec/0, the list of its {"key", Default} in params order: its size keys, then
%% {"schedulers", default}, then {"reps", 3}; and once/1, which takes the values of every key of spec/0,
%% in spec order (schedulers and reps included; a program ignores them), runs the program once, verifies
%% its result (erlang:error on a wrong one) and returns ok. Each run is timed whole, verification
%% included, in a fresh process that the program's processes link to; the figure is item savina_<name>,
%% params = the spec's keys but reps, unit ms, as the C++ side prints it (bench/programs/common.h).
%%
%% Timed workloads run one untimed warm-up, then reps timed repetitions; median/min/max are over those.
%% W5 server_100k scans 100k queued messages on every call (10k calls = 1e9 skipped messages): about
%% 0.5 ms per call, so 4-7 s per repetition and ~25 s for all of w5 on a loaded 2-core VM; that cost is the
%% point of the case, so it is not scaled down.
%%
%% This module is also the callback module of the OTP behaviours W5, W8 and swap use: a gen_server (init/1
%% with `echo`, `w8_server` or `swap_counter`, handle_call/3, handle_cast/2, handle_info/2, code_change/3)
%% and a supervisor (init/1 with `w8_sup`). No -behaviour attribute: both behaviours want an init/1, and
%% the argument tells them apart.
-module(myrmex_bench).

-export([main/0, main/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, code_change/3]).

-define(USAGE,
        "usage: erl -noshell +S S:S +P 20000000 -pa DIR -run myrmex_bench main WORKLOAD key=value ...~n"
        "  w1   n=1000000 schedulers=S~n"
        "  w2   n=10000 m=100 schedulers=S reps=3~n"
        "  w3   round_trips=1000000 schedulers=S reps=3~n"
        "  w4   k=4 m=1000000 schedulers=S reps=3~n"
        "  w5   calls=10000 schedulers=S reps=3~n"
        "  w8   cycles=10000 schedulers=S~n"
        "  w6   round_trips=100000 reps=3   (run with +S 1:1)~n"
        "  w9   cycles=100000 links=100000 schedulers=S reps=3~n"
        "  idle n=1000000 seconds=10 schedulers=S~n"
        "  terms reps=3~n"
        "  swap_one swaps=2000 schedulers=S reps=3~n"
        "  swap_all n=100000 schedulers=S reps=3~n"
        "  swap_calls clients=2 ms=1000 schedulers=S reps=3~n"
        "  savina_<name> <its keys> schedulers=S reps=3   (bench/programs/savina_<name>.erl)~n").

%% Messages put into a mailbox to stay there unread (W5).
-define(JUNK, 100000).

%%% Entry point and arguments

%% -run calls main/0 when no words follow the function name.
main() ->
    usage().

main(["savina_" ++ _ = Workload | Words]) ->
    Module = list_to_atom(Workload),
    case code:ensure_loaded(Module) of
        {module, Module} -> run(Workload, parse(Module:spec(), Words));
        _ -> usage()
    end;
main([Workload | Words]) ->
    case spec(Workload) of
        undefined -> usage();
        Spec -> run(Workload, parse(Spec, Words))
    end;
main([]) ->
    usage().

%% The keys each workload accepts, in order, with defaults (`schedulers` is filled in by parse/2).
spec("w1") -> [{"n", 1000000}, {"schedulers", default}];
spec("w2") -> [{"n", 10000}, {"m", 100}, {"schedulers", default}, {"reps", 3}];
spec("w3") -> [{"round_trips", 1000000}, {"schedulers", default}, {"reps", 3}];
spec("w4") -> [{"k", 4}, {"m", 1000000}, {"schedulers", default}, {"reps", 3}];
spec("w5") -> [{"calls", 10000}, {"schedulers", default}, {"reps", 3}];
spec("w6") -> [{"round_trips", 100000}, {"reps", 3}];
spec("w8") -> [{"cycles", 10000}, {"schedulers", default}];
spec("w9") -> [{"cycles", 100000}, {"links", 100000}, {"schedulers", default}, {"reps", 3}];
spec("idle") -> [{"n", 1000000}, {"seconds", 10}, {"schedulers", default}];
spec("terms") -> [{"reps", 3}];
spec("swap_one") -> [{"swaps", 2000}, {"schedulers", default}, {"reps", 3}];
spec("swap_all") -> [{"n", 100000}, {"schedulers", default}, {"reps", 3}];
spec("swap_calls") -> [{"clients", 2}, {"ms", 1000}, {"schedulers", default}, {"reps", 3}];
spec(_) -> undefined.

%% parse/2 returns the values of Spec's keys in Spec's order; every value is a positive integer.
parse(Spec, Words) ->
    Given = [split(Word) || Word <- Words],
    case [Key || {Key, _} <- Given, not lists:keymember(Key, 1, Spec)] of
        [] -> ok;
        _Unknown -> usage()
    end,
    [value(Key, Default, Given) || {Key, Default} <- Spec].

split(Word) ->
    case string:split(Word, "=") of
        [Key, Value] -> {Key, Value};
        _ -> usage()
    end.

value(Key, Default, Given) ->
    case lists:keyfind(Key, 1, Given) of
        {_, Text} -> positive_integer(Text);
        false when Default =:= default -> erlang:system_info(schedulers_online);
        false -> Default
    end.

positive_integer(Text) ->
    try list_to_integer(Text) of
        N when N > 0 -> N;
        _ -> usage()
    catch
        error:badarg -> usage()
    end.

usage() ->
    io:format(standard_error, ?USAGE, []),
    halt(2).

%% run/2 prints the workload's figures and halts; a crash halts with status 1 instead of leaving the node
%% running (which is what -run does by default).
run(Workload, Values) ->
    try
        workload(Workload, Values),
        halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "myrmex_bench ~s: ~p:~p~n~p~n", [Workload, Class, Reason, Stack]),
            halt(1)
    end.

workload("savina_" ++ _ = Program, Values) -> savina(list_to_atom(Program), Values);
workload("w1", [N, S]) -> w1(N, S);
workload("w2", [N, M, S, Reps]) -> w2(N, M, S, Reps);
workload("w3", [RoundTrips, S, Reps]) -> w3(RoundTrips, S, Reps);
workload("w4", [K, M, S, Reps]) -> w4(K, M, S, Reps);
workload("w5", [Calls, S, Reps]) -> w5(Calls, S, Reps);
workload("w6", [RoundTrips, Reps]) -> w6(RoundTrips, Reps);
workload("w8", [Cycles, S]) -> w8(Cycles, S);
workload("w9", [Cycles, Links, S, Reps]) -> w9(Cycles, Links, S, Reps);
workload("idle", [N, Seconds, S]) -> idle(N, Seconds, S);
workload("terms", [Reps]) -> terms(Reps);
workload("swap_one", [Swaps, S, Reps]) -> swap_one(Swaps, S, Reps);
workload("swap_all", [N, S, Reps]) -> swap_all(N, S, Reps);
workload("swap_calls", [Clients, Ms, S, Reps]) -> swap_calls(Clients, Ms, S, Reps).

%%% W1: spawn n processes, memory per process, exit

w1(N, S) ->
    Params = [{"n", N}, {"schedulers", S}],
    Counters = counters:new(2, []),
    Baseline = erlang:system_info(process_count),
    erlang:garbage_collect(),
    RssBefore = rss_bytes(),
    T0 = now_ns(),
    Pids = spawn_blocked(N, Counters),
    wait_counter(Counters, 1, N),
    T1 = now_ns(),
    RssBlocked = rss_bytes(),
    T2 = now_ns(),
    [Pid ! stop || Pid <- Pids],
    wait_counter(Counters, 2, N),
    wait_process_count(Baseline),
    T3 = now_ns(),
    figure("W1.spawn", Params, "ns/proc", [(T1 - T0) / N]),
    figure("W1.mem_rss", Params, "B/proc", [(RssBlocked - RssBefore) / N]),
    figure("W1.exit", Params, "ns/proc", [(T3 - T2) / N]).

%% spawn_blocked/2 spawns N processes that bump counter 1, block until `stop`, then bump counter 2.
spawn_blocked(N, Counters) ->
    [spawn(fun() -> blocked(Counters) end) || _ <- lists:seq(1, N)].

blocked(Counters) ->
    counters:add(Counters, 1, 1),
    receive
        stop -> counters:add(Counters, 2, 1)
    end.

%% The pollers yield between looks so that, on one scheduler, the processes they wait for get to run.
wait_counter(Counters, Index, Target) ->
    case counters:get(Counters, Index) >= Target of
        true -> ok;
        false -> erlang:yield(), wait_counter(Counters, Index, Target)
    end.

wait_process_count(Target) ->
    case erlang:system_info(process_count) =< Target of
        true -> ok;
        false -> erlang:yield(), wait_process_count(Target)
    end.

%%% W2: ring of n processes, a token goes m times around

w2(N, M, S, Reps) ->
    Samples = repeat(Reps, fun() -> ring(N, M) end),
    {Setup, Hop} = lists:unzip(Samples),
    Params = [{"n", N}, {"m", M}, {"schedulers", S}],
    figure("W2.ring", Params, "ns/hop", Hop),
    figure("W2.setup", Params, "ns/proc", Setup).

%% ring/2 builds a fresh ring, runs the token around it, tears it down and returns
%% {setup ns per process, ns per hop}.
ring(N, M) ->
    Home = self(),
    Baseline = erlang:system_info(process_count),
    T0 = now_ns(),
    % The first node learns its successor, the last node spawned, once that exists.
    First = spawn(fun() -> receive {next, Next} -> ring_node(Next, Home) end end),
    Last = chain(N - 1, First, Home),
    First ! {next, Last},
    T1 = now_ns(),
    Last ! N * M,
    receive ring_done -> ok end,
    T2 = now_ns(),
    Last ! stop,
    wait_process_count(Baseline),
    {(T1 - T0) / N, (T2 - T1) / (N * M)}.

%% chain/3 spawns K more nodes, each sending to the one spawned before it, and returns the last one.
chain(0, Prev, _Home) ->
    Prev;
chain(K, Prev, Home) ->
    chain(K - 1, spawn(fun() -> ring_node(Prev, Home) end), Home).

%% The token counts the hops still to go; the node that takes the last one tells Home. `stop` goes once
%% around, taking every node down with it.
ring_node(Next, Home) ->
    receive
        1 -> Home ! ring_done, ring_node(Next, Home);
        Hops when is_integer(Hops) -> Next ! Hops - 1, ring_node(Next, Home);
        stop -> Next ! stop
    end.

%%% W3: ping-pong

w3(RoundTrips, S, Reps) ->
    Samples = repeat(Reps, fun() -> pingpong(RoundTrips) end),
    figure("W3.pingpong", [{"schedulers", S}], "ns/rt", Samples).

%% pingpong/1 is ns per round trip over RoundTrips round trips between two fresh processes.
pingpong(RoundTrips) ->
    {Ns, 0} = pingpong(RoundTrips, fun() -> 0 end),
    Ns / RoundTrips.

%% pingpong/2 returns {ns, Probe() delta} over the same RoundTrips round trips (W6 probes the spinner's
%% counter).
pingpong(RoundTrips, Probe) ->
    Home = self(),
    spawn(fun() ->
              Ping = self(),
              Pong = spawn(fun() -> pong(Ping) end),
              P0 = Probe(),
              T0 = now_ns(),
              ping(Pong, RoundTrips),
              T1 = now_ns(),
              P1 = Probe(),
              Pong ! stop,
              Home ! {pingpong, T1 - T0, P1 - P0}
          end),
    receive {pingpong, Ns, ProbeDelta} -> {Ns, ProbeDelta} end.

ping(_Pong, 0) ->
    ok;
ping(Pong, K) ->
    Pong ! K,
    receive K -> ping(Pong, K - 1) end.

pong(Ping) ->
    receive
        stop -> ok;
        K -> Ping ! K, pong(Ping)
    end.

%%% W4: fan-in

w4(K, M, S, Reps) ->
    Samples = repeat(Reps, fun() -> fanin(K, M) end),
    figure("W4.fanin", [{"k", K}, {"m", M}, {"schedulers", S}], "msg/s", Samples).

%% fanin/2 returns messages per second from releasing the K senders until the receiver has counted K*M.
fanin(K, M) ->
    Home = self(),
    Receiver = spawn(fun() -> count(K * M), Home ! fanin_done end),
    Senders = [spawn(fun() -> receive go -> send_n(Receiver, M) end end) || _ <- lists:seq(1, K)],
    T0 = now_ns(),
    [Sender ! go || Sender <- Senders],
    receive fanin_done -> ok end,
    K * M / ((now_ns() - T0) / 1.0e9).

send_n(_To, 0) ->
    ok;
send_n(To, I) ->
    To ! I,
    send_n(To, I - 1).

count(0) ->
    ok;
count(Left) ->
    receive _ -> count(Left - 1) end.

%%% W5: call latency with junk in the caller's or the server's mailbox

w5(Calls, S, Reps) ->
    [figure("W5.call", [{"case", Case}, {"schedulers", S}], "ns/call", call_case(Case, Calls, Reps))
     || Case <- ["empty", "caller_100k", "server_100k", "gen_server"]].

%% call_case/3 makes a fresh server and caller, fills the mailbox the case names, and returns the caller's
%% timed repetitions (ns per call).
call_case("gen_server", Calls, Reps) ->
    Home = self(),
    {ok, Server} = gen_server:start(?MODULE, echo, []),
    spawn(fun() -> Home ! {calls, repeat(Reps, fun() -> timed_gen_server_calls(Server, Calls) end)} end),
    receive {calls, Samples} -> ok end,
    ok = gen_server:stop(Server),
    Samples;
call_case(Case, Calls, Reps) ->
    Home = self(),
    Server = spawn(fun server/0),
    spawn(fun() ->
              fill(Case, Server),
              Home ! {calls, repeat(Reps, fun() -> timed_calls(Server, Calls) end)}
          end),
    receive {calls, Samples} -> ok end,
    exit(Server, kill),
    Samples.

fill("empty", _Server) -> ok;
fill("caller_100k", _Server) -> send_junk(self(), ?JUNK);
fill("server_100k", Server) -> send_junk(Server, ?JUNK).

send_junk(_To, 0) ->
    ok;
send_junk(To, I) ->
    To ! {junk, I},
    send_junk(To, I - 1).

timed_calls(Server, Calls) ->
    T0 = now_ns(),
    call_n(Server, Calls),
    (now_ns() - T0) / Calls.

call_n(_Server, 0) ->
    ok;
call_n(Server, I) ->
    I = call(Server, I),
    call_n(Server, I - 1).

timed_gen_server_calls(Server, Calls) ->
    T0 = now_ns(),
    gen_server_call_n(Server, Calls),
    (now_ns() - T0) / Calls.

gen_server_call_n(_Server, 0) ->
    ok;
gen_server_call_n(Server, I) ->
    I = gen_server:call(Server, {echo, I}),
    gen_server_call_n(Server, I - 1).

%% The raw call, as Myrmex's call() does it: no monitor. Because the receive matches a reference made in
%% the same function, the compiler marks the queue before the send and the receive skips older messages.
call(Server, Request) ->
    Ref = make_ref(),
    Server ! {call, self(), Ref, Request},
    receive {Ref, Reply} -> Reply end.

%% The server's receive is selective: it walks past any junk on every call.
server() ->
    receive
        {call, From, Ref, Request} -> From ! {Ref, Request}, server()
    end.

%%% W6: ping-pong on one scheduler beside a spinning process

w6(RoundTrips, Reps) ->
    erlang:system_info(schedulers_online) =:= 1 orelse
        io:format(standard_error, "myrmex_bench w6: meant for +S 1:1, running on ~b schedulers~n",
                  [erlang:system_info(schedulers_online)]),
    Alone = repeat(Reps, fun() -> pingpong(RoundTrips) end),
    figure("W6.pingpong", [{"spin", 0}, {"schedulers", 1}], "ns/rt", Alone),
    Spins = atomics:new(1, []),
    Spinner = spawn(fun() -> spin(Spins, 1000, 1) end),
    Rate = spin_rate(Spins, 300),
    Probe = fun() -> atomics:get(Spins, 1) end,
    Beside = repeat(Reps, fun() ->
                              {Ns, Bumps} = pingpong(RoundTrips, Probe),
                              {Ns / RoundTrips, 100 * Bumps / (Rate * Ns)}
                          end),
    exit(Spinner, kill),
    {PingPong, Share} = lists:unzip(Beside),
    figure("W6.pingpong", [{"spin", 1}, {"schedulers", 1}], "ns/rt", PingPong),
    figure("W6.spinner_share", [{"spin", 1}, {"schedulers", 1}], "%", Share).

%% spin/3 loops forever doing arithmetic, never receiving; every 1000 iterations it bumps the counter.
%% X stays below 2^20 so the arithmetic never leaves small integers: a bignum would make each iteration
%% (one reduction) far slower and so stretch the spinner's time slice.
spin(Spins, 0, X) ->
    atomics:add(Spins, 1, 1),
    spin(Spins, 1000, X);
spin(Spins, I, X) ->
    spin(Spins, I - 1, (X * 31 + 7) band 16#fffff).

%% spin_rate/2 is the spinner's counter bumps per ns while it has the scheduler to itself for Ms.
spin_rate(Spins, Ms) ->
    C0 = atomics:get(Spins, 1),
    T0 = now_ns(),
    timer:sleep(Ms),
    (atomics:get(Spins, 1) - C0) / (now_ns() - T0).

%%% W8: crash a supervised registered server, wait for its restart, call the new one

%% w8/2 runs Cycles cycles under a fresh one_for_one supervisor whose one permanent child is a gen_server
%% registered as w8_server. Each cycle: monitor the server, then (timed) cast it `crash` (handle_cast
%% fails), wait for the DOWN, spin (erlang:yield, no sleep) until whereis(w8_server) is a new PID, call it
%% once. The figure is over the cycles: median/min/max of the per-cycle us (n = Cycles), and the medians of
%% the first 100 and of the last 1,000 cycles.
w8(Cycles, S) ->
    Cycles >= 1000 orelse usage(),
    % Every cycle is a crash report and a supervisor report; the figure must not time the logging.
    logger:set_primary_config(level, none),
    {ok, Sup} = supervisor:start_link(?MODULE, w8_sup),
    Us = w8_cycles(whereis(w8_server), 0, Cycles, []),
    ok = gen_server:stop(Sup),
    First = lists:sublist(Us, 100),
    Last = lists:nthtail(Cycles - 1000, Us),
    figure("W8.cycle", [{"cycles", Cycles}, {"schedulers", S}], "us/cycle", Us,
           [{"first100_median", median(lists:sort(First))}, {"last1000_median", median(lists:sort(Last))}]).

%% w8_cycles/4 returns the cycles' times in us, first cycle first.
w8_cycles(_Server, Cycles, Cycles, Acc) ->
    lists:reverse(Acc);
w8_cycles(Server, I, Cycles, Acc) ->
    Ref = monitor(process, Server),
    T0 = now_ns(),
    gen_server:cast(Server, crash),
    receive {'DOWN', Ref, process, Server, _} -> ok end,
    Next = new_holder(w8_server, Server),
    I = gen_server:call(Next, {echo, I}),
    T1 = now_ns(),
    w8_cycles(Next, I + 1, Cycles, [(T1 - T0) / 1000 | Acc]).

%% new_holder/2 spins until Name is registered by a process other than Old.
new_holder(Name, Old) ->
    case whereis(Name) of
        Pid when is_pid(Pid), Pid =/= Old -> Pid;
        _ -> erlang:yield(), new_holder(Name, Old)
    end.

%%% Behaviour callbacks (W5's and W8's servers, W8's supervisor)

%% Intensity 1,000,000 restarts per 1 s: a cycle would have to take ~1 us to reach it, so the supervisor
%% never gives up during the bench. Same flags on the Myrmex side.
init(w8_sup) ->
    Server = #{id => server,
               start => {gen_server, start_link, [{local, w8_server}, ?MODULE, w8_server, []]},
               restart => permanent, type => worker},
    {ok, {#{strategy => one_for_one, intensity => 1000000, period => 1}, [Server]}};
init(Server) when Server =:= echo; Server =:= w8_server ->
    {ok, Server};
init(swap_counter) ->
    {ok, {counter_v2, 0, 0, 0}}.

handle_call({echo, I}, _From, State) ->
    {reply, I, State};
handle_call(get, _From, State) ->
    {reply, counter_value(State), State}.

%% The W8 server crashes in handle_cast.
handle_cast(crash, w8_server) ->
    error(w8_crash);
handle_cast({add, By}, {counter_v1, N}) ->
    {noreply, {counter_v1, N + By}};
handle_cast({add, By}, {counter_v2, Base, Added, Adds}) ->
    {noreply, {counter_v2, Base, Added + By, Adds + 1}}.

handle_info(_Message, State) ->
    {noreply, State}.

%% The swap counter's two state layouts, as the two C++ versions' in bench/workloads/swap.cpp: v1 holds the
%% count, v2 what it was given at the swap, what was added since and how many adds. Upgrade 1 -> 2, and
%% downgrade back to 1 ({down, 1}, as release_handler passes it).
code_change(1, {counter_v1, N}, _Extra) ->
    {ok, {counter_v2, N, 0, 0}};
code_change({down, 1}, {counter_v2, _, _, _} = State, _Extra) ->
    {ok, {counter_v1, counter_value(State)}}.

counter_value({counter_v1, N}) -> N;
counter_value({counter_v2, Base, Added, _Adds}) -> Base + Added.

%%% W9: exit signals

w9(Cycles, Links, S, Reps) ->
    CycleSamples = repeat(Reps, fun() -> monitor_cycles(Cycles) end),
    LinkSamples = repeat(Reps, fun() -> link_fanout(Links) end),
    figure("W9.monitor_cycle", [{"cycles", Cycles}, {"schedulers", S}], "ns/cycle", CycleSamples),
    figure("W9.link_fanout", [{"links", Links}, {"schedulers", S}], "ns/link", LinkSamples).

%% monitor_cycles/1 is ns per cycle of spawn_monitor on a process that returns at once (reason normal)
%% and the receive of its DOWN.
monitor_cycles(Cycles) ->
    T0 = now_ns(),
    monitor_cycle(Cycles),
    (now_ns() - T0) / Cycles.

monitor_cycle(0) ->
    ok;
monitor_cycle(K) ->
    {Pid, Ref} = spawn_monitor(fun() -> ok end),
    receive
        {'DOWN', Ref, process, Pid, Reason} -> normal = Reason
    end,
    monitor_cycle(K - 1).

%% link_fanout/1 is ns per link from just before a process linked to Links trapping processes exits with
%% reason boom (it stamps the time and sends it here) until every one of them has told us that its
%% {'EXIT', _, boom} arrived. Spawning and linking are not timed, nor is stopping the trappers afterwards.
link_fanout(Links) ->
    Collector = self(),
    Baseline = erlang:system_info(process_count),
    Linked = spawn(fun() ->
                       Self = self(),
                       [spawn_link(fun() -> trapper(Self, Collector) end) || _ <- lists:seq(1, Links)],
                       receive die -> ok end,
                       Collector ! {exiting, now_ns()},
                       exit(boom)
                   end),
    Trappers = [receive {ready, Pid} -> Pid end || _ <- lists:seq(1, Links)],
    Linked ! die,
    T0 = collect_exits(Links, undefined),
    T1 = now_ns(),
    [Pid ! stop || Pid <- Trappers],
    wait_process_count(Baseline),
    (T1 - T0) / Links.

%% trapper/2 traps exits, says it is ready, waits for the EXIT from Linked, notifies, then waits for stop.
trapper(Linked, Collector) ->
    process_flag(trap_exit, true),
    Collector ! {ready, self()},
    receive
        {'EXIT', Linked, Reason} -> boom = Reason, Collector ! got
    end,
    receive
        stop -> ok
    end.

%% collect_exits/2 counts Left `got` notifications and returns the time the linked process stamped.
collect_exits(0, T0) when is_integer(T0) ->
    T0;
collect_exits(Left, T0) ->
    receive
        got -> collect_exits(Left - 1, T0);
        {exiting, T} -> collect_exits(Left, T)
    end.

%%% swap: sys:suspend + sys:change_code + sys:resume of idle gen_servers (bench/workloads/swap.cpp)
%%
%% A swap here is what OTP's release handler does to a gen_server whose module changed: suspend it, have
%% it run code_change/3 (sys:change_code), resume it; the three, each a synchronous system message, are
%% timed together as one swap. There is no new module version to load: sys:change_code names this same
%% module, and code_change/3 still turns one state layout into the other. So these figures measure the sys
%% protocol and code_change/3, not code loading (which the Myrmex side does not time either: its versions
%% are registered once, before anything is timed).

-define(SWAP_VALUE, 41).

start_counter(Value) ->
    {ok, Pid} = gen_server:start(?MODULE, swap_counter, []),
    gen_server:cast(Pid, {add, Value}),
    Pid.

other_version(1) -> 2;
other_version(2) -> 1.

%% The OldVsn that sys:change_code passes to code_change/3 on the way to version To.
old_vsn(2) -> 1;
old_vsn(1) -> {down, 1}.

%% swap_to/2 moves one server (on the other version) to version To.
swap_to(Server, To) ->
    ok = sys:suspend(Server),
    ok = sys:change_code(Server, ?MODULE, old_vsn(To), []),
    ok = sys:resume(Server).

%% swap_one/3: one idle server, a counter started on v2 as on the Myrmex side, swapped back and forth;
%% Swaps untimed swaps, then Reps x Swaps timed ones, each us. The figure is over all of them, with p99.
swap_one(Swaps, S, Reps) ->
    Server = start_counter(?SWAP_VALUE),
    {_, On} = timed_swaps(Server, Swaps, 2, []),
    {Timed, _} = lists:mapfoldl(fun(_, V) -> timed_swaps(Server, Swaps, V, []) end, On,
                                lists:seq(1, Reps)),
    ?SWAP_VALUE = gen_server:call(Server, get),
    Us = lists:append(Timed),
    figure("swap.one", [{"swaps", Swaps}, {"schedulers", S}], "us/swap", Us,
           [{"p99", quantile(lists:sort(Us), 0.99)}]).

%% timed_swaps/4 returns {the us of each of K swaps, the version the server ends on}.
timed_swaps(_Server, 0, On, Acc) ->
    {Acc, On};
timed_swaps(Server, K, On, Acc) ->
    To = other_version(On),
    T0 = now_ns(),
    swap_to(Server, To),
    T1 = now_ns(),
    timed_swaps(Server, K - 1, To, [(T1 - T0) / 1000 | Acc]).

%% swap_all/3: N idle servers, server I given 41 + I; a warm-up pair of swaps of them all (to v1, back to
%% v2), then Reps pairs, each one sample; every server is checked after.
swap_all(N, S, Reps) ->
    Servers = [start_counter(?SWAP_VALUE + I) || I <- lists:seq(0, N - 1)],
    Once = fun(To) ->
                   T0 = now_ns(),
                   swap_all_to(Servers, To),
                   (now_ns() - T0) / 1000
           end,
    _ = [Once(To) || To <- [1, 2]],
    Us = [Once(To) || _ <- lists:seq(1, Reps), To <- [1, 2]],
    lists:foldl(fun(Server, I) -> I = gen_server:call(Server, get), I + 1 end, ?SWAP_VALUE, Servers),
    Params = [{"n", N}, {"schedulers", S}],
    figure("swap.all", Params, "us/swap_all", Us),
    figure("swap.all_per_proc", Params, "ns/proc", [X * 1000 / N || X <- Us]).

%% swap_all_to/2 is release_handler_1's way for the processes of one module: sequentially, phase by phase
%% (suspend every process, then change_code every one, then resume every one), one synchronous sys call
%% at a time; OTP does not do them in parallel. The Myrmex side's code::swap_all signals every process at
%% once and waits for the last answer; it also finds them itself (a scan of the process table), where here
%% the list is given.
swap_all_to(Servers, To) ->
    OldVsn = old_vsn(To),
    lists:foreach(fun(Server) -> ok = sys:suspend(Server) end, Servers),
    lists:foreach(fun(Server) -> ok = sys:change_code(Server, ?MODULE, OldVsn, []) end, Servers),
    lists:foreach(fun(Server) -> ok = sys:resume(Server) end, Servers).

%% swap_calls/4: Clients processes call get in a loop for Ms ms against one server, without (swapping=0)
%% and with (swapping=1) a swapper that swaps it back and forth meanwhile; a fresh server per case, a
%% warm-up window, then Reps windows. Per window: calls/s, the median, p99 and mean of every call's ns,
%% swaps/s.
swap_calls(Clients, Ms, S, Reps) ->
    [swap_calls_case(Clients, Ms, Swapping, S, Reps) || Swapping <- [0, 1]],
    ok.

swap_calls_case(Clients, Ms, Swapping, S, Reps) ->
    Server = start_counter(?SWAP_VALUE),
    Windows = repeat(Reps, fun() -> calls_window(Server, Clients, Ms, Swapping) end),
    gen_server:cast(Server, {add, 1}),
    ?SWAP_VALUE + 1 = gen_server:call(Server, get),
    ok = gen_server:stop(Server),
    Params = [{"clients", Clients}, {"swapping", Swapping}, {"schedulers", S}],
    figure("swap.calls", Params, "calls/s", [CallsPerS || {CallsPerS, _, _, _, _} <- Windows]),
    figure("swap.call_latency", Params, "ns/call", [Median || {_, Median, _, _, _} <- Windows],
           [{"p99", median(lists:sort([P99 || {_, _, P99, _, _} <- Windows]))},
            {"mean", median(lists:sort([Mean || {_, _, _, Mean, _} <- Windows]))}]),
    case Swapping of
        1 -> figure("swap.swaps", Params, "swaps/s", [SwapsPerS || {_, _, _, _, SwapsPerS} <- Windows]);
        0 -> ok
    end.

%% calls_window/4 returns {calls/s, median ns, p99 ns, mean ns, swaps/s} of one window. Each worker stamps the end
%% of its last call, so copying the latencies back is not timed.
calls_window(Server, Clients, Ms, Swapping) ->
    Home = self(),
    Callers = [worker(fun() -> receive {go, D} -> Home ! {calls, caller(Server, D, now_ns(), [])} end end)
               || _ <- lists:seq(1, Clients)],
    Swappers = [worker(fun() -> receive {go, D} -> Home ! {swaps, swapper(Server, D)} end end)
                || Swapping =:= 1],
    T0 = now_ns(),
    [Pid ! {go, T0 + Ms * 1000000} || Pid <- Callers ++ Swappers],
    Calls = [receive {calls, C} -> C end || _ <- Callers],
    Swaps = lists:sum([receive {swaps, K} -> K end || _ <- Swappers]),
    Seconds = (lists:max([End || {End, _} <- Calls]) - T0) / 1.0e9,
    Sorted = lists:sort(lists:append([Latencies || {_, Latencies} <- Calls])),
    Count = length(Sorted),
    {Count / Seconds, median(Sorted), quantile(Sorted, 0.99), lists:sum(Sorted) / Count, Swaps / Seconds}.

%% worker/1 spawns Body; a crash in it halts the node with status 1, as run/2 does for the main process.
worker(Body) ->
    spawn(fun() ->
                  try
                      Body()
                  catch
                      Class:Reason:Stack ->
                          io:format(standard_error, "myrmex_bench swap_calls: ~p:~p~n~p~n",
                                    [Class, Reason, Stack]),
                          halt(1)
                  end
          end).

%% version_of/1 is the version a counter runs, from its state's layout.
version_of(Server) ->
    case sys:get_state(Server) of
        {counter_v1, _} -> 1;
        {counter_v2, _, _, _} -> 2
    end.

%% caller/4 calls until Deadline, each call timed; returns {end of the last call, the ns of every call}.
caller(Server, Deadline, T0, Acc) when T0 < Deadline ->
    ?SWAP_VALUE = gen_server:call(Server, get),
    T1 = now_ns(),
    caller(Server, Deadline, T1, [T1 - T0 | Acc]);
caller(_Server, _Deadline, End, Acc) ->
    {End, Acc}.

%% swapper/2 swaps Server back and forth until Deadline, from the version it runs; returns how many swaps.
swapper(Server, Deadline) ->
    swapper(Server, Deadline, version_of(Server), 0).

swapper(Server, Deadline, On, Swaps) ->
    case now_ns() < Deadline of
        true ->
            To = other_version(On),
            swap_to(Server, To),
            swapper(Server, Deadline, To, Swaps + 1);
        false ->
            Swaps
    end.

%%% idle: CPU use of n blocked processes

idle(N, Seconds, S) ->
    Counters = counters:new(2, []),
    spawn_blocked(N, Counters),
    wait_counter(Counters, 1, N),
    timer:sleep(1000),
    Cpu0 = cpu_ticks(),
    T0 = now_ns(),
    timer:sleep(Seconds * 1000),
    CpuSeconds = (cpu_ticks() - Cpu0) / 100,
    WallSeconds = (now_ns() - T0) / 1.0e9,
    figure("idle.cpu", [{"n", N}, {"schedulers", S}], "%", [100 * CpuSeconds / WallSeconds]).

%%% terms: the External Term Format, the same shapes and iterations as bench/workloads/terms.cpp

terms(Reps) ->
    Shapes = [{"small_tuple", {ok, 42, <<"hello">>}, 200000},
              {"list_1000", [{I, ok} || I <- lists:seq(1, 1000)], 2000},
              {"binary_1m", binary:copy(<<"x">>, 1 bsl 20), 200}],
    [terms_shape(Name, Term, Iterations, Reps) || {Name, Term, Iterations} <- Shapes],
    ok.

%% terms_shape/4 prints terms.encode and terms.decode of one shape: ns per term, and the encoding's MiB/s
%% at the median.
terms_shape(Name, Term, Iterations, Reps) ->
    Bytes = term_to_binary(Term),
    Term = binary_to_term(Bytes),
    Params = [{"shape", Name}],
    MiB = byte_size(Bytes) / (1 bsl 20),
    Encode = repeat(Reps, fun() -> timed(Iterations, fun encode_n/3, Term) end),
    Decode = repeat(Reps, fun() -> timed(Iterations, fun decode_n/3, Bytes) end),
    [figure(Item, Params, "ns/term", Samples, [{"mib_per_s", MiB / (median(lists:sort(Samples)) * 1.0e-9)}])
     || {Item, Samples} <- [{"terms.encode", Encode}, {"terms.decode", Decode}]].

%% timed/3 is the ns of one step of Loop(Input, Iterations, Acc).
timed(Iterations, Loop, Input) ->
    T0 = now_ns(),
    Loop(Input, Iterations, undefined),
    (now_ns() - T0) / Iterations.

%% encode_n/3 and decode_n/3 carry each result to the next step, so the compiler keeps the call.
encode_n(_Term, 0, Last) -> Last;
encode_n(Term, N, _) -> encode_n(Term, N - 1, term_to_binary(Term)).

decode_n(_Bytes, 0, Last) -> Last;
decode_n(Bytes, N, _) -> decode_n(Bytes, N - 1, binary_to_term(Bytes)).

%%% Savina programs (bench/programs/savina_*.erl; see the header)

%% savina/2 times a warm-up and Reps runs of Module:once(Values) and prints the program's figure.
savina(Module, Values) ->
    Given = lists:zip([Key || {Key, _} <- Module:spec()], Values),
    {_, Reps} = lists:keyfind("reps", 1, Given),
    Samples = repeat(Reps, fun() ->
                                   T0 = now_ns(),
                                   savina_once(Module, Values),
                                   (now_ns() - T0) / 1.0e6
                           end),
    figure(atom_to_list(Module), [KV || {Key, _} = KV <- Given, Key =/= "reps"], "ms", Samples).

%% savina_once/2 runs Module:once(Values) in a fresh process; a wrong result or a crash there (of it or
%% of a process linked to it) is an error here.
savina_once(Module, Values) ->
    Home = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Home ! {savina_done, self(), Module:once(Values)} end),
    receive
        {savina_done, Pid, ok} ->
            erlang:demonitor(Ref, [flush]),
            ok;
        {'DOWN', Ref, process, Pid, Reason} ->
            erlang:error({Module, Reason})
    end.

%%% Measuring

now_ns() ->
    erlang:monotonic_time(nanosecond).

%% repeat/2 runs Once one untimed time (warm-up), then Reps times, and returns what the timed runs returned.
repeat(Reps, Once) ->
    Once(),
    [Once() || _ <- lists:seq(1, Reps)].

%% rss_bytes/0 is this OS process's resident set size (VmRSS in /proc/self/status).
rss_bytes() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Status, "VmRSS:\\s*(\\d+)", [{capture, all_but_first, list}]),
    list_to_integer(Kb) * 1024.

%% cpu_ticks/0 is this OS process's utime + stime in clock ticks (100 Hz), fields 14 and 15 of
%% /proc/self/stat; counting starts past the last ')' because the command name may hold spaces.
cpu_ticks() ->
    {ok, Stat} = file:read_file("/proc/self/stat"),
    [_, AfterName] = string:split(binary_to_list(Stat), ")", trailing),
    % AfterName starts with field 3 (state), so fields 14 and 15 are its 12th and 13th words.
    Fields = string:lexemes(AfterName, " \n"),
    list_to_integer(lists:nth(12, Fields)) + list_to_integer(lists:nth(13, Fields)).

%%% Output

%% figure/4 prints one result line; median/min/max are over Samples.
figure(Item, Params, Unit, Samples) ->
    figure(Item, Params, Unit, Samples, []).

%% figure/5 adds Extra, [{Key, Number}], as more fields after unit (W8's flatness medians).
figure(Item, Params, Unit, Samples, Extra) ->
    Sorted = lists:sort(Samples),
    Line = ["{\"impl\":\"erlang\",\"item\":\"", Item, "\",\"params\":", params(Params),
            ",\"median\":", number(median(Sorted)), ",\"min\":", number(hd(Sorted)),
            ",\"max\":", number(lists:last(Sorted)), ",\"n\":", integer_to_list(length(Sorted)),
            ",\"unit\":\"", Unit, "\"", [[",\"", Key, "\":", number(Value)] || {Key, Value} <- Extra],
            "}\n"],
    io:put_chars(Line).

params(Params) ->
    ["{", lists:join(",", [["\"", Key, "\":", param(Value)] || {Key, Value} <- Params]), "}"].

param(Value) when is_integer(Value) -> integer_to_list(Value);
param(Value) -> ["\"", Value, "\""].

%% quantile/2 is the Q-th quantile of a sorted list, nearest rank (as the C++ side's quantile()).
quantile(Sorted, Q) ->
    lists:nth(max(1, ceil(Q * length(Sorted))), Sorted).

median(Sorted) ->
    Len = length(Sorted),
    case Len rem 2 of
        1 -> lists:nth(Len div 2 + 1, Sorted);
        0 -> (lists:nth(Len div 2, Sorted) + lists:nth(Len div 2 + 1, Sorted)) / 2
    end.

%% number/1 prints about six significant digits, like the C++ side's %.6g.
number(X) when X == 0 ->
    "0";
number(X) ->
    Decimals = max(0, 5 - floor(math:log10(abs(X)))),
    float_to_list(float(X), [{decimals, Decimals}, compact]).
