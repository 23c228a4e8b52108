//! The DynamoDB store: one on-demand table, partition key `pk` only, TTL attribute `exp`
//! (epoch seconds). Every operation is one item call; counters are a single `UpdateItem`
//! with `ADD` (atomic, no transactions on hot counters), gates and sets conditional ones.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};

use super::key;
use super::{Lock, Peeked, Record, Store, StoreError};

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}
fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
/// TTL attributes are epoch seconds.
fn ttl(exp_ms: i64) -> AttributeValue {
    n(exp_ms.div_euclid(1000) + 1)
}
fn num(item: &Item, name: &str) -> Option<i64> {
    match item.get(name)? {
        AttributeValue::N(v) => v.parse().ok(),
        _ => None,
    }
}
fn text(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => String::new(),
    }
}
/// Expired but not yet deleted by TTL: absent.
fn live(item: &Item, now: i64) -> bool {
    num(item, "exp").is_none_or(|exp| exp * 1000 > now)
}
fn err<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError(DisplayErrorContext(e).to_string())
}

/// A conditional `UpdateItem`'s output, or `None` when its condition did not hold.
fn conditional<T, R>(
    result: Result<T, SdkError<UpdateItemError, R>>,
) -> Result<Option<T>, StoreError>
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e)
            if e.as_service_error()
                .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
        {
            Ok(None)
        }
        Err(e) => Err(err(e)),
    }
}

/// A conditional `UpdateItem`: true when it wrote, false when its condition did not hold.
fn written<T, R>(result: Result<T, SdkError<UpdateItemError, R>>) -> Result<bool, StoreError>
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    conditional(result).map(|out| out.is_some())
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, pk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(err)?;
        Ok(out.item)
    }

    /// One `UpdateItem` on the counter `n` (`:v` and `:exp` bound), returning its new value.
    async fn update_counter(
        &self,
        key: &str,
        expression: &str,
        value: i64,
        exp: i64,
    ) -> Result<i64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression(expression)
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":v", n(value))
            .expression_attribute_values(":exp", ttl(exp))
            // ALL_NEW, not UPDATED_NEW: an ADD of 0 changes nothing, and nothing would come back.
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(err)?;
        out.attributes
            .as_ref()
            .and_then(|a| num(a, "n"))
            .ok_or_else(|| StoreError("UpdateItem returned no counter".into()))
    }
}

impl DynamoStore {
    /// A lock's item (`u`, `s`), with a note (`t`) when there is one.
    async fn put_lock(
        &self,
        key: &str,
        lock: Lock,
        note: Option<&str>,
        exp: i64,
    ) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("u", n(lock.until))
            .item("s", n(i64::from(lock.strikes)))
            .item("exp", ttl(exp.max(lock.until)));
        if let Some(note) = note {
            put = put.item("t", s(note));
        }
        put.send().await.map_err(err)?;
        Ok(())
    }
}

impl Store for DynamoStore {
    async fn add(&self, key: &str, delta: i64, _now: i64, exp: i64) -> Result<i64, StoreError> {
        self.update_counter(key, "ADD n :v SET #exp = :exp", delta, exp)
            .await
    }

    async fn add_within(
        &self,
        key: &str,
        delta: i64,
        max: i64,
        _now: i64,
        exp: i64,
    ) -> Result<Option<i64>, StoreError> {
        // Counters are windowed (the window's index is in the key), so an expired item that
        // TTL has not deleted yet is never added to again.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("ADD n :v SET #exp = :exp")
            .condition_expression("attribute_not_exists(n) OR n <= :room")
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":v", n(delta))
            .expression_attribute_values(":room", n(max - delta))
            .expression_attribute_values(":exp", ttl(exp))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        conditional(result)?
            .map(|out| {
                out.attributes
                    .as_ref()
                    .and_then(|a| num(a, "n"))
                    .ok_or_else(|| StoreError("UpdateItem returned no counter".into()))
            })
            .transpose()
    }

    async fn peek(&self, keys: &[String], now: i64) -> Result<Vec<Peeked>, StoreError> {
        // One BatchGetItem (consistent, up to 100 distinct keys), re-asking for what DynamoDB
        // left unprocessed under load.
        let mut distinct: Vec<&String> = keys.iter().collect();
        distinct.sort();
        distinct.dedup();
        let mut found: HashMap<String, Item> = HashMap::new();
        for chunk in distinct.chunks(100) {
            let mut ask = KeysAndAttributes::builder().consistent_read(true);
            for k in chunk {
                ask = ask.keys(HashMap::from([("pk".to_string(), s(k))]));
            }
            let mut pending = Some(ask.build().map_err(|e| StoreError(e.to_string()))?);
            for _ in 0..5 {
                let Some(ask) = pending.take() else { break };
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, ask)
                    .send()
                    .await
                    .map_err(err)?;
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    found.insert(text(&item, "pk"), item);
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
            }
            if pending.is_some() {
                return Err(StoreError("BatchGetItem left keys unprocessed".into()));
            }
        }
        Ok(keys
            .iter()
            .map(|k| match found.get(k).filter(|i| live(i, now)) {
                None => Peeked::default(),
                Some(i) => Peeked {
                    count: num(i, "n").unwrap_or(0),
                    note: match i.get("t") {
                        Some(AttributeValue::S(t)) => Some(t.clone()),
                        _ => None,
                    },
                    lock: num(i, "u").map(|until| Lock {
                        until,
                        strikes: num(i, "s").unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
                    }),
                },
            })
            .collect())
    }

    async fn add_member(
        &self,
        key: &str,
        member: &str,
        max: usize,
        _now: i64,
        exp: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("ADD m :set SET #exp = :exp")
            .condition_expression(
                "attribute_not_exists(m) OR contains(m, :member) OR size(m) < :max",
            )
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":set", AttributeValue::Ss(vec![member.to_string()]))
            .expression_attribute_values(":member", s(member))
            .expression_attribute_values(":max", n(max as i64))
            .expression_attribute_values(":exp", ttl(exp))
            .send()
            .await;
        written(result)
    }

    async fn claim(&self, key: &str, now: i64, until: i64) -> Result<Result<(), i64>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("SET u = :until, #exp = :exp")
            .condition_expression("attribute_not_exists(u) OR u <= :now")
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", ttl(until))
            .send()
            .await;
        if written(result)? {
            return Ok(Ok(()));
        }
        let open_at = self.get(key).await?.and_then(|i| num(&i, "u"));
        Ok(Err(open_at.unwrap_or(now + 1000)))
    }

    async fn release(&self, key: &str, until: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("SET u = :open")
            .condition_expression("u = :until")
            .expression_attribute_values(":open", n(0))
            .expression_attribute_values(":until", n(until))
            .send()
            .await;
        written(result)
    }

    async fn get_lock(&self, key: &str, now: i64) -> Result<Option<Lock>, StoreError> {
        Ok(self.get(key).await?.filter(|i| live(i, now)).map(|i| Lock {
            until: num(&i, "u").unwrap_or(0),
            strikes: num(&i, "s").unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
        }))
    }

    async fn set_lock(&self, key: &str, lock: Lock, exp: i64) -> Result<(), StoreError> {
        self.put_lock(key, lock, None, exp).await
    }

    async fn set_note(
        &self,
        key: &str,
        lock: Lock,
        note: &str,
        exp: i64,
    ) -> Result<(), StoreError> {
        self.put_lock(key, lock, Some(note), exp).await
    }

    async fn put_record(&self, id: &str, r: &Record, exp: i64) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&key::record(id)))
            .item("rn", s(&r.number))
            .item("rs", s(&r.sealed))
            .item("rr", s(&r.range))
            .item("rq", s(&r.prefix))
            .item("rc", s(&r.calling_code))
            .item("ri", s(&r.ip))
            .item("rx", s(&r.net))
            .item("ru", s(&r.caller))
            .item("rt", n(r.created_at))
            .item("rv", AttributeValue::Bool(r.verified))
            .item("rk", n(i64::from(r.class)))
            .item("rp", n(r.spend))
            .item("rd", n(i64::from(r.deliveries)))
            .item("exp", ttl(exp))
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn get_record(&self, id: &str, now: i64) -> Result<Option<Record>, StoreError> {
        let item = self.get(&key::record(id)).await?;
        Ok(item.filter(|i| live(i, now)).map(|i| Record {
            number: text(&i, "rn"),
            sealed: text(&i, "rs"),
            range: text(&i, "rr"),
            prefix: text(&i, "rq"),
            calling_code: text(&i, "rc"),
            ip: text(&i, "ri"),
            net: text(&i, "rx"),
            caller: text(&i, "ru"),
            created_at: num(&i, "rt").unwrap_or(0),
            verified: matches!(i.get("rv"), Some(AttributeValue::Bool(true))),
            outcome: i
                .get("ro")
                .and_then(|v| v.as_s().ok())
                .map(|o| (o.clone(), num(&i, "rf").unwrap_or(0))),
            class: num(&i, "rk").unwrap_or(0).clamp(0, 255) as u8,
            spend: num(&i, "rp").unwrap_or(0),
            deliveries: num(&i, "rd").unwrap_or(1).clamp(0, 255) as u8,
        }))
    }

    async fn mark_verified(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&key::record(id)))
            .update_expression("SET rv = :t")
            .condition_expression("attribute_exists(pk) AND rv = :f AND #exp > :now")
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now.div_euclid(1000)))
            .send()
            .await;
        written(result)
    }

    async fn finish(&self, id: &str, outcome: &str, at: i64, now: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&key::record(id)))
            .update_expression("SET ro = :o, rf = :at")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(ro) AND #exp > :now",
            )
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":o", s(outcome))
            .expression_attribute_values(":at", n(at))
            .expression_attribute_values(":now", n(now.div_euclid(1000)))
            .send()
            .await;
        written(result)
    }

    async fn first_value(&self, key: &str, value: i64, exp: i64) -> Result<i64, StoreError> {
        let expr = "SET n = if_not_exists(n, :v), #exp = if_not_exists(#exp, :exp)";
        self.update_counter(key, expr, value, exp).await
    }
}
