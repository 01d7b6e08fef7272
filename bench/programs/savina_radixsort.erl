%% Savina's radix sort (Imam & Sarkar, AGERE 2014: "radixsort"), the twin of bench/programs/radixsort.cpp:
%% N values go through a pipeline of sort stages, gen_servers, one per bit a value below MAX may have, lowest
%% bit first, into a sink. A stage passes a value whose bit is 0 on at once and holds one whose bit is 1
%% until it has seen all N; then it sends the held ones on, in arrival order, and ends. Each stage is a
%% stable partition, so the sink receives the values sorted. The values come from Savina's generator:
%% x' = (1309 x + 13849) mod 65536 from the seed, each taken mod MAX; so they are below 65,536 and the
%% stages of the higher bits only pass values on, as in Savina. Savina's sizes: N=100,000 values,
%% MAX=2^60 (60 stages), seed 2,048.
%%
%% Verified: what the sink received, asked for with a call it answers once it has all N values, is sorted
%% and is a permutation of the input.
%%
%% once/1 takes the values of spec/0 in order, runs the program once and returns ok, or fails with
%% erlang:error/1 on a wrong result:
%%   erlc -o DIR bench/programs/savina_radixsort.erl
%%   erl -noshell +S 2:2 -pa DIR -eval 'ok = savina_radixsort:once([100000, 1 bsl 60, 2048, 2, 3]), halt().'
-module(savina_radixsort).
-behaviour(gen_server).

-export([spec/0, once/1]).
-export([init/1, handle_call/3, handle_cast/2]).

%% The sink answers once every value has gone through every stage; allow for a slow, shared machine.
-define(PATIENCE, 300000).

-record(stage, {n :: pos_integer(), bit :: pos_integer(), next :: pid(), seen = 0 :: non_neg_integer(),
                ones = [] :: [non_neg_integer()]}).  % newest first
-record(sink, {n :: pos_integer(), got = 0 :: non_neg_integer(), values = [] :: [non_neg_integer()],
               asker = none :: gen_server:from() | none}).  % values newest first

spec() -> [{"n", 100000}, {"max", 1 bsl 60}, {"seed", 2048}, {"schedulers", default}, {"reps", 3}].

once([N, Max, Seed | _]) ->
    {ok, Sink} = gen_server:start_link(?MODULE, {sink, N}, []),
    First = stages(top_bit(1, Max), N, Sink),
    Input = feed(First, N, Seed, Max, []),
    Output = gen_server:call(Sink, received, ?PATIENCE),
    sorted(Output) orelse erlang:error(output_not_sorted),
    Output =:= lists:sort(Input) orelse erlang:error(output_not_a_permutation_of_input),
    ok.

%% top_bit/2 is the highest power of two below Max (Savina's Max div 2 for a power of two).
top_bit(Bit, Max) when Bit * 2 < Max -> top_bit(Bit * 2, Max);
top_bit(Bit, _Max) -> Bit.

%% stages/3 starts the stages from the highest bit down, each feeding the one before, and returns the
%% lowest bit's.
stages(0, _N, Next) ->
    Next;
stages(Bit, N, Next) ->
    {ok, Stage} = gen_server:start_link(?MODULE, {stage, N, Bit, Next}, []),
    stages(Bit div 2, N, Stage).

%% feed/5 casts N values from Savina's generator to the first stage and returns them.
feed(_First, 0, _State, _Max, Input) ->
    Input;
feed(First, N, State, Max, Input) ->
    Next = (State * 1309 + 13849) band 65535,
    Value = Next rem Max,
    gen_server:cast(First, {value, Value}),
    feed(First, N - 1, Next, Max, [Value | Input]).

sorted([A | [B | _] = Rest]) -> A =< B andalso sorted(Rest);
sorted(_) -> true.

%%% Stages and the sink

init({stage, N, Bit, Next}) -> {ok, #stage{n = N, bit = Bit, next = Next}};
init({sink, N}) -> {ok, #sink{n = N}}.

handle_cast({value, V} = Msg, S = #stage{bit = Bit, next = Next, seen = Seen, ones = Ones}) ->
    S1 = case V band Bit of
             0 ->
                 gen_server:cast(Next, Msg),
                 S#stage{seen = Seen + 1};
             _ ->
                 S#stage{seen = Seen + 1, ones = [V | Ones]}
         end,
    case S1#stage.seen of
        N when N =:= S1#stage.n ->
            [gen_server:cast(Next, {value, One}) || One <- lists:reverse(S1#stage.ones)],
            {stop, normal, S1};
        _ ->
            {noreply, S1}
    end;
handle_cast({value, V}, S = #sink{got = Got, values = Values}) ->
    answer(S#sink{got = Got + 1, values = [V | Values]}).

handle_call(received, From, S = #sink{}) ->
    answer(S#sink{asker = From}).

%% answer/1 replies to the asker once the sink has all the values, and ends it.
answer(S = #sink{n = N, got = N, asker = Asker}) when Asker =/= none ->
    gen_server:reply(Asker, lists:reverse(S#sink.values)),
    {stop, normal, S};
answer(S) ->
    {noreply, S}.
