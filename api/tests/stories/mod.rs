mod profiles;
mod queue;
