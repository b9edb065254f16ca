//! Stored values as JSON, for programs that hold no static type for them: the command line
//! and the web view. Types are found among the argument and output types of the tasks linked
//! into the program.

use super::{inspect::EXTERNAL_EVENT_TASK, Engine};
use crate::{
    id::{validate_task_id, validate_workflow_id},
    records::{decode, workflow_prefix, EventRecord, InputRecord, StepOutcome, StepRecord, STEPS},
    value::decode_value,
    value_type::ValueType,
    Error, Result,
};

impl Engine {
    /// The output of workflow `id` as JSON, waiting for it as [`Engine::output`] does.
    ///
    /// # Errors
    ///
    /// As [`Engine::output`]; [`Error::Codec`] if no task linked into this program takes or
    /// returns the output's type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// #[task]
    /// fn pair(a: i64) -> (i64, String) {
    ///     (a, "apples".to_string())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", pair::bind(3)).await?;
    /// assert_eq!(engine.output_json("w").await?, serde_json::json!([3, "apples"]));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn output_json(&self, id: &str) -> Result<serde_json::Value> {
        validate_workflow_id(id)?;
        let output = self.shared().output(id).await?;
        ValueType::require(output.fingerprint, &output.type_name)?.decode_json(&output.bytes)
    }

    /// The checkpointed output of task `task_id` of workflow `id` as JSON: the
    /// [`task_output`](Engine::task_output) of a program that does not name its type.
    ///
    /// # Errors
    ///
    /// As [`Engine::task_output`]; [`Error::Codec`] if no task linked into this program takes
    /// or returns the output's type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[task] fn add(a: i64, b: i64) -> i64 { a + b }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", add::bind(one::bind(), 2)).await?;
    /// assert_eq!(engine.task_output_json("w", "one").await?, serde_json::json!(1));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn task_output_json(&self, id: &str, task_id: &str) -> Result<serde_json::Value> {
        validate_workflow_id(id)?;
        validate_task_id(task_id)?;
        let shared = self.shared();
        let record = shared.record(id).await?;
        let (step, step_record) = shared.find_step(id, task_id).await?;
        let outcome = shared
            .output_of_step(id, step, &step_record, record.step_count)
            .await?
            .map(|result| result.outcome);
        match outcome {
            Some(StepOutcome::Value { fingerprint, bytes }) => {
                let type_name = shared
                    .registry
                    .get(&step_record.task)
                    .map(|task| (task.output_type)())
                    .unwrap_or_else(|| format!("output of `{}`", step_record.task));
                ValueType::require(fingerprint, &type_name)?.decode_json(&bytes)
            }
            Some(StepOutcome::Caught(error)) => Err(Error::TaskFailed {
                workflow_id: id.to_string(),
                task_id: task_id.to_string(),
                error,
            }),
            _ => Err(Error::NotFound {
                what: "checkpointed output of task",
                id: task_id.to_string(),
            }),
        }
    }

    /// Continues workflow `id` as [`Engine::resume`] does, and returns its output as JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// # #[task] fn one() -> i64 { 1 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// engine.run("w", one::bind()).await?;
    /// assert_eq!(engine.resume_json("w").await?, serde_json::json!(1));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume_json(&self, id: &str) -> Result<serde_json::Value> {
        validate_workflow_id(id)?;
        self.shared().resume_stored(id).await?;
        self.output_json(id).await
    }

    /// Sends `value`, given as JSON, as event `key` to workflow `workflow_id`: the
    /// [`send_event`](Engine::send_event) of a program that does not name the event's type.
    ///
    /// The type is the one a step of the workflow waits for under `key`, found among the
    /// argument and output types of the tasks linked into this program.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if no step of the workflow waits for `key` yet (send it with
    /// `send_event` from code that names its type); [`Error::Codec`] if the JSON is not a
    /// value of that type, or the type is unknown here.
    ///
    /// # Examples
    ///
    /// ```
    /// # use workflow::prelude::*;
    /// #[task]
    /// fn ship(quantity: u32) -> String {
    ///     format!("{quantity} shipped")
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> workflow::Result<()> {
    /// let engine = Engine::temporary().await?;
    /// let quantity = workflow::wait_for_event(ExternalEvent::<u32>::new("quantity"));
    /// engine.spawn("order", ship::bind(quantity)).await?;
    /// engine.send_event_json("order", "quantity", serde_json::json!(12)).await?;
    /// assert_eq!(engine.output::<String>("order").await?, "12 shipped");
    /// assert!(matches!(
    ///     engine.send_event_json("order", "quantity", serde_json::json!("twelve")).await,
    ///     Err(Error::Codec { .. })
    /// ));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_event_json(
        &self,
        workflow_id: &str,
        key: &str,
        value: serde_json::Value,
    ) -> Result<()> {
        validate_workflow_id(workflow_id)?;
        validate_task_id(key)?;
        let fingerprint = self.awaited_event_type(workflow_id, key).await?;
        let value_type = ValueType::require(fingerprint, &format!("the type of event `{key}`"))?;
        let record = EventRecord {
            fingerprint,
            type_name: value_type.name(),
            bytes: value_type.encode_json(value)?,
        };
        self.send_event_record(workflow_id, key, record).await
    }

    /// The fingerprint of the type that a step of workflow `id` waits for under `key`.
    async fn awaited_event_type(&self, id: &str, key: &str) -> Result<u64> {
        let shared = self.shared();
        shared.record(id).await?;
        for (step_key, bytes) in shared
            .store
            .scan_prefix(STEPS, &workflow_prefix(id))
            .await?
        {
            let step: StepRecord = decode(STEPS, &step_key, &bytes)?;
            if step.task != EXTERNAL_EVENT_TASK {
                continue;
            }
            if let [InputRecord::Value(waited), InputRecord::Value(fingerprint), ..] =
                step.inputs.as_slice()
            {
                let waited: String = decode_value(waited, "an event's key")?;
                if waited == key {
                    return decode_value(fingerprint, "an event's type");
                }
            }
        }
        Err(Error::NotFound {
            what: "event wait",
            id: format!("{id}/{key}"),
        })
    }
}
