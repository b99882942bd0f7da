pub fn aof_main(_a: Vec<std::ffi::OsString>) -> i32 { 1 }
