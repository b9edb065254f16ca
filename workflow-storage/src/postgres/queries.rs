//! The SQL of reads: one statement per shape of key range and order, prepared once per
//! connection.

use std::ops::Bound;

use tokio_postgres::types::ToSql;

use crate::{scan::KeyRange, Keyspace, Order};

/// A read of a key range: its SQL and parameters.
pub(crate) struct RangeQuery {
    pub(crate) sql: String,
    keyspace: &'static str,
    lower: Option<Vec<u8>>,
    upper: Option<Vec<u8>>,
    limit: i64,
}

impl RangeQuery {
    /// The entries of `keyspace` in `range`, in `order`, at most `limit` of them.
    pub(crate) fn new(
        schema: &str,
        keyspace: Keyspace,
        range: KeyRange,
        order: Order,
        limit: usize,
    ) -> Self {
        let (lower_op, lower) = match range.0 {
            Bound::Included(key) => (Some(">="), Some(key)),
            Bound::Excluded(key) => (Some(">"), Some(key)),
            Bound::Unbounded => (None, None),
        };
        let (upper_op, upper) = match range.1 {
            Bound::Included(key) => (Some("<="), Some(key)),
            Bound::Excluded(key) => (Some("<"), Some(key)),
            Bound::Unbounded => (None, None),
        };
        let mut sql = format!("SELECT key, value FROM \"{schema}\".records WHERE keyspace = $1");
        let mut next = 2;
        if let Some(op) = lower_op {
            sql.push_str(&format!(" AND key {op} ${next}"));
            next += 1;
        }
        if let Some(op) = upper_op {
            sql.push_str(&format!(" AND key {op} ${next}"));
            next += 1;
        }
        let direction = match order {
            Order::Ascending => "ASC",
            Order::Descending => "DESC",
        };
        sql.push_str(&format!(" ORDER BY key {direction} LIMIT ${next}"));
        RangeQuery {
            sql,
            keyspace: keyspace.name(),
            lower,
            upper,
            limit: i64::try_from(limit).unwrap_or(i64::MAX),
        }
    }

    /// The parameters, in the order of the placeholders.
    pub(crate) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&self.keyspace];
        if let Some(lower) = &self.lower {
            params.push(lower);
        }
        if let Some(upper) = &self.upper {
            params.push(upper);
        }
        params.push(&self.limit);
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KS: Keyspace = Keyspace::new("ks");

    #[test]
    fn placeholders_follow_the_bounds() {
        let query = RangeQuery::new(
            "s",
            KS,
            (
                Bound::Excluded(b"a".to_vec()),
                Bound::Excluded(b"b".to_vec()),
            ),
            Order::Descending,
            10,
        );
        assert_eq!(
            query.sql,
            "SELECT key, value FROM \"s\".records WHERE keyspace = $1 AND key > $2 \
             AND key < $3 ORDER BY key DESC LIMIT $4"
        );
        assert_eq!(query.params().len(), 4);
        let open = RangeQuery::new(
            "s",
            KS,
            (Bound::Included(Vec::new()), Bound::Unbounded),
            Order::Ascending,
            usize::MAX,
        );
        assert!(open.sql.ends_with("key >= $2 ORDER BY key ASC LIMIT $3"));
        assert_eq!(open.limit, i64::MAX);
    }
}
