%% Savina's Producer-Consumer with Bounded Buffer, the Erlang side of bench/programs/bndbuffer.cpp. P
%% producers each make I items (busy work of produce_cost per item) and put them into a buffer manager, a
%% gen_server; C consumers take items from it and consume each (busy work of consume_cost). The manager
%% holds at most B items: a put into a full buffer is answered once a take makes room, and a take from an
%% empty buffer once an item comes (both with gen_server:reply/2), so producers and consumers are plain
%% loops of calls. A producer that is done says so; when every producer is done and the buffer is empty,
%% a take answers `done`. Savina sizes: B = 50, P = 40, C = 40, I = 1000 items per producer, produce and
%% consume cost 25 (Savina's processItem: 100 logarithms per unit of cost).
%%
%% Verifies: every item {Producer, Seq} consumed exactly once.
-module(savina_bndbuffer).
-behaviour(gen_server).

-export([spec/0, once/1]).
-export([init/1, handle_call/3, handle_cast/2]).

-record(manager, {capacity, producers_left, size = 0, buffer = queue:new(),
                  putters = queue:new(),  % producers waiting for room: {Item, From}
                  takers = queue:new()}). % consumers waiting for an item (the buffer is empty): From

spec() ->
    [{"buffer", 50}, {"producers", 40}, {"consumers", 40}, {"items", 1000}, {"produce_cost", 25},
     {"consume_cost", 25}, {"schedulers", default}, {"reps", 3}].

once([Buffer, Producers, Consumers, Items, ProduceCost, ConsumeCost, _Schedulers, _Reps]) ->
    {ok, Manager} = gen_server:start_link(?MODULE, {Buffer, Producers}, []),
    Home = self(),
    [spawn_link(fun() -> consume(Manager, Home, ConsumeCost, 0.0, []) end) || _ <- lists:seq(1, Consumers)],
    [spawn_link(fun() -> produce(Manager, P, Items, ProduceCost) end) || P <- lists:seq(0, Producers - 1)],
    Seen = collect(Consumers, Producers, Items, #{}),
    map_size(Seen) =:= Producers * Items
        orelse savina_common:fail("bndbuffer: not every item was consumed"),
    ok = gen_server:stop(Manager).

produce(Manager, Id, Items, Cost) ->
    produce(Manager, Id, Items, Cost, 0, 0.0).

produce(Manager, _Id, Items, _Cost, Items, _Value) ->
    gen_server:cast(Manager, producer_done);
produce(Manager, Id, Items, Cost, Seq, Value) ->
    Next = savina_common:busy_work(Value, Cost),
    ok = gen_server:call(Manager, {put, {Id, Seq, Next}}, savina_common:patience()),
    produce(Manager, Id, Items, Cost, Seq + 1, Next).

consume(Manager, Home, Cost, Value, Taken) ->
    case gen_server:call(Manager, take, savina_common:patience()) of
        {item, {_, _, Data} = Item} ->
            consume(Manager, Home, Cost, savina_common:busy_work(Value + Data, Cost), [Item | Taken]);
        done ->
            Home ! {consumed, Taken}
    end.

%% collect/4 takes the consumers' reports and returns the set of items consumed, each checked new.
collect(0, _Producers, _Items, Seen) ->
    Seen;
collect(Left, Producers, Items, Seen) ->
    receive
        {consumed, Taken} ->
            collect(Left - 1, Producers, Items, lists:foldl(fun(Item, S) -> see(Item, Producers, Items, S) end,
                                                            Seen, Taken))
    after savina_common:patience() ->
        savina_common:fail("bndbuffer: a consumer did not report")
    end.

see({P, Seq, _}, Producers, Items, Seen)
  when P >= 0, P < Producers, Seq >= 0, Seq < Items, not is_map_key({P, Seq}, Seen) ->
    Seen#{{P, Seq} => true};
see(_Item, _Producers, _Items, _Seen) ->
    savina_common:fail("bndbuffer: an item consumed twice or never made").

%%% The manager.

init({Capacity, Producers}) ->
    {ok, #manager{capacity = Capacity, producers_left = Producers}}.

handle_call({put, Item}, From, #manager{takers = Takers} = M) ->
    case queue:out(Takers) of
        {{value, Taker}, Rest} ->  % the buffer is empty: straight to a waiting consumer
            gen_server:reply(Taker, {item, Item}),
            {reply, ok, M#manager{takers = Rest}};
        {empty, _} when M#manager.size < M#manager.capacity ->
            {reply, ok, M#manager{size = M#manager.size + 1, buffer = queue:in(Item, M#manager.buffer)}};
        {empty, _} ->
            {noreply, M#manager{putters = queue:in({Item, From}, M#manager.putters)}}
    end;
handle_call(take, From, #manager{buffer = Buffer} = M) ->
    case queue:out(Buffer) of
        {{value, Item}, Rest} ->
            {reply, {item, Item}, admit_putter(M#manager{size = M#manager.size - 1, buffer = Rest})};
        {empty, _} when M#manager.producers_left =:= 0 ->
            {reply, done, M};
        {empty, _} ->
            {noreply, M#manager{takers = queue:in(From, M#manager.takers)}}
    end.

handle_cast(producer_done, #manager{producers_left = 1, takers = Takers} = M) ->
    [gen_server:reply(Taker, done) || Taker <- queue:to_list(Takers)],  % the buffer is empty
    {noreply, M#manager{producers_left = 0, takers = queue:new()}};
handle_cast(producer_done, #manager{producers_left = Left} = M) ->
    {noreply, M#manager{producers_left = Left - 1}}.

%% admit_putter/1 moves a waiting producer's item into the buffer, which has room for one, and answers it.
admit_putter(#manager{putters = Putters} = M) ->
    case queue:out(Putters) of
        {{value, {Item, From}}, Rest} ->
            gen_server:reply(From, ok),
            M#manager{size = M#manager.size + 1, buffer = queue:in(Item, M#manager.buffer), putters = Rest};
        {empty, _} ->
            M
    end.
