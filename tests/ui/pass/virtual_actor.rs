use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Account {
    balance: u64,
    owner: String,
}

#[derive(Debug)]
pub struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[task]
fn fee(amount: u64) -> u64 {
    amount / 100
}

#[virtual_actor(name = "bank.account")]
impl Account {
    pub fn new(owner: String, opening: u64) -> Self {
        Account { balance: opening, owner }
    }

    /// Pays `amount` in.
    pub fn deposit(&mut self, amount: u64) -> u64 {
        self.balance += amount;
        self.balance
    }

    pub async fn withdraw(&mut self, amount: u64) -> Result<u64, Refused> {
        if amount > self.balance {
            return Err(Refused(format!("{} has only {}", self.owner, self.balance)));
        }
        self.balance -= amount;
        Ok(self.balance)
    }

    pub fn fee_of(&self, amount: u64) -> Flow<u64> {
        workflow::continuation(fee::bind(amount))
    }

    pub fn owner(&self) -> String {
        self.owner.clone()
    }

    /// Not a method of the actor: no `self`.
    pub fn bank_name() -> &'static str {
        "bank"
    }
}

async fn use_it(engine: &Engine) -> workflow::Result<()> {
    let account: AccountHandle = Account::get_or_create(engine, "acct-1", "ada".to_string(), 10).await?;
    let _: ActorCall<u64> = account.deposit(5);
    let _: ActorCall<u64> = account.withdraw(1);
    let _: ActorCall<u64> = account.fee_of(100);
    let _: ActorCall<String> = account.owner();
    let _: Dag<u64> = Account::actor("acct-2").deposit(fee::bind(7)).bind();
    let _: &str = account.id();
    let _ = Account::bank_name();
    Ok(())
}

fn main() {
    let _ = use_it;
}
