//! Actors across a fleet (PostgreSQL): one engine serves an actor, and another calls it,
//! directly and from its workflows' steps; the calls are numbered in one order and run by
//! the serving engine; reads work from anywhere; when the serving engine closes, the next
//! caller serves the actor from then on.
#![cfg(feature = "postgres")]

mod support;

use serde::{Deserialize, Serialize};
use support::postgres::Schema;
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Wallet {
    balance: u64,
    log: Vec<u64>,
}

#[virtual_actor]
impl Wallet {
    fn new(balance: u64) -> Self {
        Wallet {
            balance,
            log: Vec::new(),
        }
    }
    fn deposit(&mut self, amount: u64) -> u64 {
        self.balance += amount;
        self.log.push(amount);
        self.balance
    }
    fn pay(&mut self, to: String, amount: u64) -> Result<Flow<u64>, String> {
        if self.balance < amount {
            return Err(format!("only {} left", self.balance));
        }
        self.balance -= amount;
        Ok(workflow::continuation(
            Wallet::actor(&to).deposit(amount).bind(),
        ))
    }
    /// Takes `amount` if the wallet holds it; returns what it took.
    fn withdraw(&mut self, amount: u64) -> u64 {
        if self.balance < amount {
            return 0;
        }
        self.balance -= amount;
        amount
    }
    fn balance(&self) -> u64 {
        self.balance
    }
    fn log(&self) -> Vec<u64> {
        self.log.clone()
    }
}

#[task]
fn both(a: u64, b: u64) -> u64 {
    a + b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_served_by_one_engine_is_called_from_another() -> workflow::Result<()> {
    let schema = Schema::new("actors");
    let server = schema.builder().build().await?;
    let caller = schema.builder().build().await?;
    let alice = Wallet::get_or_create(&server, "alice", 100).await?;
    assert_eq!(alice.deposit(1).run().await?, 101);
    Wallet::get_or_create(&server, "bob", 0).await?;

    // The caller's calls go to the server, in one order.
    let remote = Wallet::get_actor(&caller, "alice").await?;
    let mut handles = Vec::new();
    for amount in 2..12 {
        handles.push(remote.deposit(amount).spawn().await?);
    }
    let mut ids = Vec::new();
    for handle in handles {
        ids.push(handle.id().to_string());
        handle.output().await?;
    }
    let numbers: Vec<u64> = ids
        .iter()
        .map(|id| id.rsplit_once('@').unwrap().1.parse().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert_eq!(remote.balance().run().await?, 101 + (2..12).sum::<u64>());
    assert_eq!(alice.log().run().await?, (1..12).collect::<Vec<_>>());

    // From a workflow's steps on the caller, and a writer's continuation calling another
    // actor.
    let dag = both::bind(
        Wallet::actor("alice").deposit(100).bind(),
        Wallet::actor("alice").pay("bob".to_string(), 50).bind(),
    );
    caller.run::<u64>("steps", dag).await?;
    assert_eq!(
        Wallet::get_actor(&caller, "bob")
            .await?
            .balance()
            .run()
            .await?,
        50
    );
    let expected = 101 + (2..12).sum::<u64>() + 100 - 50;
    assert_eq!(alice.balance().run().await?, expected);

    // The server closes: the caller serves the actors from then on.
    server.close().await?;
    assert_eq!(remote.deposit(1).run().await?, expected + 1);
    assert_eq!(remote.balance().run().await?, expected + 1);
    caller.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_callers_at_once_lose_no_call() -> workflow::Result<()> {
    let schema = Schema::new("actors_many");
    let engines = [
        schema.builder().build().await?,
        schema.builder().build().await?,
        schema.builder().build().await?,
    ];
    Wallet::get_or_create(&engines[0], "shared", 0).await?;
    let mut calls = tokio::task::JoinSet::new();
    for (e, engine) in engines.iter().enumerate() {
        for i in 0..20_u64 {
            let engine = engine.clone();
            calls.spawn(async move {
                let wallet = Wallet::get_actor(&engine, "shared").await?;
                wallet.deposit(e as u64 * 100 + i).run().await
            });
        }
    }
    while let Some(done) = calls.join_next().await {
        done.unwrap()?;
    }
    let wallet = Wallet::get_actor(&engines[2], "shared").await?;
    let mut log = wallet.log().run().await?;
    assert_eq!(log.len(), 60);
    log.sort_unstable();
    let mut expected: Vec<u64> = (0..3)
        .flat_map(|e| (0..20).map(move |i| e * 100 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(log, expected);
    for engine in engines {
        engine.close().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_between_actors_served_by_different_engines_keep_the_total() -> workflow::Result<()>
{
    let schema = Schema::new("actors_pay");
    let engines = [
        schema.builder().build().await?,
        schema.builder().build().await?,
        schema.builder().build().await?,
    ];
    for a in 0..6 {
        Wallet::get_or_create(&engines[a % 3], &format!("w{a}"), 500).await?;
    }
    let payment = |p: u64| {
        let from = p % 6;
        let to = (p * 5 + 1) % 6;
        let to = if to == from { (to + 1) % 6 } else { to };
        let taken = Wallet::actor(&format!("w{from}"))
            .withdraw(20 + (p * 37) % 300)
            .bind();
        Wallet::actor(&format!("w{to}")).deposit(taken).bind()
    };
    for engine in &engines {
        for p in 0..40 {
            engine.spawn(&format!("pay-{p}"), payment(p)).await?;
        }
    }
    for p in 0..40 {
        let id = format!("pay-{p}");
        let out = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            engines[(p % 3) as usize].output::<u64>(&id),
        )
        .await
        .unwrap_or_else(|_| panic!("payment {p} did not end"));
        out?;
    }
    let mut total = 0;
    for a in 0..6 {
        total += Wallet::get_actor(&engines[0], &format!("w{a}"))
            .await?
            .balance()
            .run()
            .await?;
    }
    assert_eq!(total, 6 * 500, "money was made or lost");
    for engine in engines {
        engine.close().await?;
    }
    Ok(())
}
