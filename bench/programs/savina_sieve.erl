%% Savina's prime sieve (Imam & Sarkar, AGERE 2014: "sieve"), the twin of bench/programs/sieve.cpp: the
%% program casts the odd numbers 3, 5, ... below N down a pipeline of filters, gen_servers that each hold
%% up to M primes. A filter drops a number that one of its primes divides and passes the others on; the
%% last filter keeps a number that reaches it (it is prime), and once it holds M primes it starts the next
%% filter with the new one. The first filter starts with 2. Savina's sizes: N=100,000 numbers, M=1,000
%% primes per filter.
%%
%% Verified: the primes the filters hold, asked for with a call that walks down the pipeline behind the
%% last number, are as many as a sequential sieve finds below N (9,592 for 100,000).
%%
%% once/1 takes the values of spec/0 in order, runs the program once and returns ok, or fails with
%% erlang:error/1 on a wrong result:
%%   erlc -o DIR bench/programs/savina_sieve.erl
%%   erl -noshell +S 2:2 -pa DIR -eval 'ok = savina_sieve:once([100000, 1000, 2, 3]), halt().'
-module(savina_sieve).
-behaviour(gen_server).

-export([spec/0, once/1]).
-export([init/1, handle_call/3, handle_cast/2]).

%% A count waits behind every number still in the pipeline; allow for a slow, shared machine.
-define(PATIENCE, 120000).

-record(filter, {primes :: [pos_integer()],  % ascending, as found
                 held :: pos_integer(),      % length(primes)
                 capacity :: pos_integer(),
                 next = none :: pid() | none}).

spec() -> [{"n", 100000}, {"m", 1000}, {"schedulers", default}, {"reps", 3}].

once([N, M | _]) ->
    {ok, First} = gen_server:start_link(?MODULE, {2, M}, []),
    feed(First, 3, N),
    Found = gen_server:call(First, count, ?PATIENCE),
    gen_server:cast(First, finish),
    case primes_below(N) of
        Found -> ok;
        Expected -> erlang:error({wrong_prime_count, Found, Expected})
    end.

feed(Filter, Candidate, N) when Candidate < N ->
    gen_server:cast(Filter, {candidate, Candidate}),
    feed(Filter, Candidate + 2, N);
feed(_, _, _) ->
    ok.

%% primes_below/1 counts the primes below N with a sequential sieve of Eratosthenes.
primes_below(N) ->
    count_primes(2, N, atomics:new(max(N, 1), []), 0).

count_primes(I, N, _Composite, Count) when I >= N ->
    Count;
count_primes(I, N, Composite, Count) ->
    case atomics:get(Composite, I) of
        1 ->
            count_primes(I + 1, N, Composite, Count);
        0 ->
            mark(I * I, I, N, Composite),
            count_primes(I + 1, N, Composite, Count + 1)
    end.

mark(J, Step, N, Composite) when J < N ->
    atomics:put(Composite, J, 1),
    mark(J + Step, Step, N, Composite);
mark(_, _, _, _) ->
    ok.

%%% The filter

init({First, Capacity}) ->
    {ok, #filter{primes = [First], held = 1, capacity = Capacity}}.

handle_cast({candidate, C} = Msg, F = #filter{primes = Primes, next = Next}) ->
    case prime_here(C, Primes) of
        false ->
            {noreply, F};
        true when Next =/= none ->
            gen_server:cast(Next, Msg),
            {noreply, F};
        true when F#filter.held < F#filter.capacity ->
            {noreply, F#filter{primes = Primes ++ [C], held = F#filter.held + 1}};
        true ->
            {ok, New} = gen_server:start_link(?MODULE, {C, F#filter.capacity}, []),
            {noreply, F#filter{next = New}}
    end;
handle_cast(finish, F = #filter{next = Next}) ->
    Next =/= none andalso gen_server:cast(Next, finish),
    {stop, normal, F}.

handle_call(count, _From, F = #filter{held = Held, next = none}) ->
    {reply, Held, F};
handle_call(count, _From, F = #filter{held = Held, next = Next}) ->
    {reply, Held + gen_server:call(Next, count, ?PATIENCE), F}.

prime_here(C, [P | Primes]) -> C rem P =/= 0 andalso prime_here(C, Primes);
prime_here(_, []) -> true.
