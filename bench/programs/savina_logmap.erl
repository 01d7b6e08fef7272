%% Savina's Logistic Map Series (request/reply), the Erlang side of bench/programs/logmap.cpp. S series
%% workers each compute T terms of the logistic map x <- r x (1 - x); the process running once/1 asks
%% every worker for the next term T times (casts), and the worker asks its rate computer, which holds r,
%% for each one and waits (a call). Then it calls each worker for its last term. Worker I starts at
%% I * 0.0025 with rate 3.46 + I * 0.0025. Savina sizes: T = 25000 terms, S = 10 series (start rate 3.46,
%% increment 0.0025: fixed here). Both kinds of server are gen_servers of this module; the state's tag
%% says which.
%%
%% Verifies: each series' last term equals a sequential computation of the same series, bit for bit.
-module(savina_logmap).
-behaviour(gen_server).

-export([spec/0, once/1]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(START_RATE, 3.46).
-define(INCREMENT, 0.0025).

spec() ->
    [{"terms", 25000}, {"series", 10}, {"schedulers", default}, {"reps", 3}].

once([Terms, Series, _Schedulers, _Reps]) ->
    Patience = savina_common:patience(),
    Servers = [start_series(I) || I <- lists:seq(0, Series - 1)],
    Workers = [Worker || {_, Worker} <- Servers],
    ask_terms(Terms, Workers),
    Lasts = [gen_server:call(Worker, get_term, Patience) || Worker <- Workers],
    Expected = [sequential(I, Terms) || I <- lists:seq(0, Series - 1)],
    Lasts =:= Expected orelse savina_common:fail("logmap: a series differs from the sequential one"),
    [ok = gen_server:stop(Worker) || Worker <- Workers],
    [ok = gen_server:stop(Computer) || {Computer, _} <- Servers],
    ok.

%% start_series/1 starts series I's rate computer and worker: {Computer, Worker}.
start_series(I) ->
    {ok, Computer} = gen_server:start_link(?MODULE, {rate_computer, rate(I)}, []),
    {ok, Worker} = gen_server:start_link(?MODULE, {series_worker, Computer, start(I)}, []),
    {Computer, Worker}.

rate(I) -> ?START_RATE + I * ?INCREMENT.
start(I) -> I * ?INCREMENT.

next_term(Rate, Term) ->
    Rate * Term * (1 - Term).

ask_terms(0, _Workers) ->
    ok;
ask_terms(K, Workers) ->
    [gen_server:cast(Worker, next_term) || Worker <- Workers],
    ask_terms(K - 1, Workers).

sequential(I, Terms) ->
    Rate = rate(I),
    lists:foldl(fun(_, Term) -> next_term(Rate, Term) end, start(I), lists:seq(1, Terms)).

%%% The servers: {rate_computer, Rate} or {series_worker, Computer, Term}.

init(State) ->
    {ok, State}.

handle_call({compute, Term}, _From, {rate_computer, Rate} = State) ->
    {reply, next_term(Rate, Term), State};
handle_call(get_term, _From, {series_worker, _Computer, Term} = State) ->
    {reply, Term, State}.

handle_cast(next_term, {series_worker, Computer, Term}) ->
    Next = gen_server:call(Computer, {compute, Term}, savina_common:patience()),
    {noreply, {series_worker, Computer, Next}}.
