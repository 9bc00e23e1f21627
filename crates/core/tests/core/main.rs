//! Behaviour of Deskhand's pure core: the graph, the policies, extraction, memory.

mod address;
mod fixtures;
mod graph;
mod grounding;
mod knowledge;
mod memory;
mod order;
mod policy;
mod products;
mod returns;
mod review;
mod tracking;
