%% Savina's Concurrent Dictionary, the Erlang side of bench/programs/concdict.cpp. W workers each send M
%% requests to one dictionary gen_server, one at a time (a call each): a write of a random value to a
%% random key with probability write_percent %, else a read of a random key. Keys are below
%% 2^31 div 4096 = 524287, as in Savina. Savina sizes: W = 20 workers, M = 10000 messages per worker,
%% 10% writes. Unlike Savina, the dictionary starts empty instead of preloaded with 524287 entries, so a
%% run times the messages rather than building a large map.
%%
%% Each worker writes only keys of its own class modulo W (reads go anywhere), so the final dictionary is
%% a function of the workers' request sequences: one worker's requests arrive in order.
%% Verifies: each write answered with its value, each read of a key of the reader's own class answered
%% with the value the reader last wrote there (none if none); the server's read and write counts equal
%% the workers'; the final dictionary (size and a checksum of every entry) equals a sequential replay.
-module(savina_concdict).
-behaviour(gen_server).

-export([spec/0, once/1]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(KEYS, (2147483647 div 4096)).

-record(dictionary, {entries = #{}, reads = 0, writes = 0}).

spec() ->
    [{"workers", 20}, {"messages", 10000}, {"write_percent", 10}, {"schedulers", default}, {"reps", 3}].

once([Workers, Messages, WritePercent, _Schedulers, _Reps]) ->
    Patience = savina_common:patience(),
    Sizes = {Workers, Messages, WritePercent},
    {ok, Dictionary} = gen_server:start_link(?MODULE, [], []),
    Home = self(),
    [spawn_link(fun() -> work(Dictionary, Home, Id, Sizes) end) || Id <- lists:seq(0, Workers - 1)],
    {Reads, Writes} = collect(Workers, {0, 0}),
    {ServerReads, ServerWrites, Size, Checksum} = gen_server:call(Dictionary, stats, Patience),
    {Expected, ReplayWrites} = replay(Sizes),
    Reads + Writes =:= Workers * Messages andalso {ServerReads, ServerWrites} =:= {Reads, Writes}
        andalso Writes =:= ReplayWrites
        orelse savina_common:fail("concdict: reads and writes miscounted"),
    {Size, Checksum} =:= {map_size(Expected), checksum(Expected)}
        orelse savina_common:fail("concdict: the final dictionary differs from the sequential replay"),
    ok = gen_server:stop(Dictionary).

%% checksum/1 is the sum of Key * Value over the entries, mod 2^32 (the C++ side computes the same).
checksum(Map) ->
    maps:fold(fun(Key, Value, Sum) -> (Sum + Key * Value) band 16#FFFFFFFF end, 0, Map).

%% ops/2 is worker Id's request generator (seeded as Savina seeds it); next_op/1 is {Op, Ops}, Op being
%% {write, Key, Value} or {read, Key}.
ops(Id, {Workers, Messages, WritePercent}) ->
    {savina_common:random(Id + Messages + WritePercent), Id, Workers, WritePercent}.

next_op({R0, Id, Workers, WritePercent} = Ops) ->
    case savina_common:next_int(100, R0) of
        {Choice, R1} when Choice < WritePercent ->
            {Slot, R2} = savina_common:next_int(?KEYS div Workers, R1),
            {Value, R3} = savina_common:next(R2),
            {{write, Slot * Workers + Id, Value}, setelement(1, Ops, R3)};
        {_, R1} ->
            {Key, R2} = savina_common:next_int(?KEYS, R1),
            {{read, Key}, setelement(1, Ops, R2)}
    end.

work(Dictionary, Home, Id, {_, Messages, _} = Sizes) ->
    Home ! {worker_done, work(Dictionary, Id, Sizes, ops(Id, Sizes), Messages, #{}, {0, 0})}.

%% work/7 makes Left more requests; Mine is what this worker last wrote to each of its keys.
work(_Dictionary, _Id, _Sizes, _Ops, 0, _Mine, Counts) ->
    Counts;
work(Dictionary, Id, {Workers, _, _} = Sizes, Ops, Left, Mine, {Reads, Writes}) ->
    Patience = savina_common:patience(),
    case next_op(Ops) of
        {{write, Key, Value}, Ops1} ->
            Value = gen_server:call(Dictionary, {write, Key, Value}, Patience),
            work(Dictionary, Id, Sizes, Ops1, Left - 1, Mine#{Key => Value}, {Reads, Writes + 1});
        {{read, Key}, Ops1} ->
            Found = gen_server:call(Dictionary, {read, Key}, Patience),
            Key rem Workers =/= Id orelse Found =:= maps:find(Key, Mine)
                orelse savina_common:fail("concdict: a read did not see the reader's own last write"),
            work(Dictionary, Id, Sizes, Ops1, Left - 1, Mine, {Reads + 1, Writes})
    end.

collect(0, Counts) ->
    Counts;
collect(Left, {Reads, Writes}) ->
    receive
        {worker_done, {R, W}} -> collect(Left - 1, {Reads + R, Writes + W})
    after savina_common:patience() ->
        savina_common:fail("concdict: a worker did not finish")
    end.

%% replay/1 is {the final dictionary, the number of writes}, computed sequentially.
replay({Workers, Messages, _} = Sizes) ->
    lists:foldl(fun(Id, Acc) -> replay(ops(Id, Sizes), Messages, Acc) end, {#{}, 0},
                lists:seq(0, Workers - 1)).

replay(_Ops, 0, Acc) ->
    Acc;
replay(Ops, Left, {Map, Writes} = Acc) ->
    case next_op(Ops) of
        {{write, Key, Value}, Ops1} -> replay(Ops1, Left - 1, {Map#{Key => Value}, Writes + 1});
        {{read, _}, Ops1} -> replay(Ops1, Left - 1, Acc)
    end.

%%% The dictionary.

init([]) ->
    {ok, #dictionary{}}.

handle_call({write, Key, Value}, _From, #dictionary{entries = Entries, writes = Writes} = D) ->
    {reply, Value, D#dictionary{entries = Entries#{Key => Value}, writes = Writes + 1}};
handle_call({read, Key}, _From, #dictionary{entries = Entries, reads = Reads} = D) ->
    {reply, maps:find(Key, Entries), D#dictionary{reads = Reads + 1}};
handle_call(stats, _From, #dictionary{entries = Entries, reads = Reads, writes = Writes} = D) ->
    {reply, {Reads, Writes, map_size(Entries), checksum(Entries)}, D}.

handle_cast(_Message, D) ->
    {noreply, D}.
