//! Who may open another connection: a cap on open connections in total,
//! one per client address, and a small reserve beyond the total for the
//! operator routes. A [`Slot`] holds its place until it is dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// The caps one listener enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Open connections served with every route.
    pub total: usize,
    /// Open connections from one address, the reserve included; 0: none.
    pub per_address: usize,
    /// Connections beyond `total` served with the operator routes only.
    pub reserve: usize,
}

/// What a new connection may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Every route, keep-alive.
    Regular,
    /// The operator routes only, one request.
    Reserve,
}

/// Why a connection was turned away (a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ServerFull,
    AddressFull,
}

impl Refusal {
    pub fn label(self) -> &'static str {
        match self {
            Refusal::ServerFull => "server_full",
            Refusal::AddressFull => "address_full",
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    regular: usize,
    reserve: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// The open connections of one listener.
#[derive(Debug, Clone)]
pub struct Admission {
    caps: Caps,
    counts: Arc<Mutex<Counts>>,
}

impl Admission {
    pub fn new(caps: Caps) -> Admission {
        Admission {
            caps,
            counts: Arc::default(),
        }
    }

    /// Takes a place for a connection from `address`, or says why not.
    pub fn admit(&self, address: IpAddr) -> Result<Slot, Refusal> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let from_address = counts.per_address.get(&address).copied().unwrap_or(0);
        if self.caps.per_address > 0 && from_address >= self.caps.per_address {
            return Err(Refusal::AddressFull);
        }
        let kind = if counts.regular < self.caps.total {
            counts.regular += 1;
            Kind::Regular
        } else if counts.reserve < self.caps.reserve {
            counts.reserve += 1;
            Kind::Reserve
        } else {
            return Err(Refusal::ServerFull);
        };
        counts.per_address.insert(address, from_address + 1);
        Ok(Slot {
            kind,
            address,
            counts: self.counts.clone(),
        })
    }

    /// Connections open now (regular, reserve).
    pub fn open(&self) -> (usize, usize) {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        (counts.regular, counts.reserve)
    }
}

/// One admitted connection's place; released when dropped.
#[derive(Debug)]
pub struct Slot {
    pub kind: Kind,
    address: IpAddr,
    counts: Arc<Mutex<Counts>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        match self.kind {
            Kind::Regular => counts.regular = counts.regular.saturating_sub(1),
            Kind::Reserve => counts.reserve = counts.reserve.saturating_sub(1),
        }
        // Forget an address with no connection left, so the map stays as
        // small as the set of connected clients.
        if let Some(n) = counts.per_address.get_mut(&self.address) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn the_total_then_the_reserve_then_refusal() {
        let admission = Admission::new(Caps {
            total: 2,
            per_address: 0,
            reserve: 1,
        });
        let a = admission.admit(ip(2)).unwrap();
        let b = admission.admit(ip(3)).unwrap();
        let c = admission.admit(ip(4)).unwrap();
        assert_eq!(
            (a.kind, b.kind, c.kind),
            (Kind::Regular, Kind::Regular, Kind::Reserve)
        );
        assert_eq!(admission.admit(ip(5)).unwrap_err(), Refusal::ServerFull);
        assert_eq!(admission.open(), (2, 1));
        drop(a);
        assert_eq!(admission.admit(ip(5)).unwrap().kind, Kind::Regular);
    }

    #[test]
    fn one_address_cannot_take_more_than_its_share() {
        let admission = Admission::new(Caps {
            total: 10,
            per_address: 2,
            reserve: 2,
        });
        let held: Vec<_> = (0..2).map(|_| admission.admit(ip(2)).unwrap()).collect();
        assert_eq!(admission.admit(ip(2)).unwrap_err(), Refusal::AddressFull);
        assert!(admission.admit(ip(3)).is_ok());
        drop(held);
        assert!(admission.admit(ip(2)).is_ok());
        assert!(
            admission
                .counts
                .lock()
                .unwrap()
                .per_address
                .keys()
                .all(|a| *a != ip(2) && *a != ip(3)),
            "addresses with no connection are forgotten"
        );
    }
}
