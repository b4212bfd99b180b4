use super::*;
use crate::extract::formats::testing::{accesses, assert_has, models, render, runs};

const WORKER: &str = "\
# syntax=docker/dockerfile:1
FROM python:3.12-slim AS worker
ARG APP_HOME=/opt/worker
ENV DATA_DIR=/data QUEUE_NAME=jobs
ENV LOG_DIR /var/log/worker
WORKDIR /opt/worker
COPY requirements.txt ./
COPY bin/ /opt/worker/bin/
COPY worker /opt/worker/worker
RUN pip install -r requirements.txt \\
    && mkdir -p $DATA_DIR/incoming \\
    # a comment inside the instruction
    && touch /var/log/worker/ready
VOLUME [\"/data\"]
ENTRYPOINT [\"/opt/worker/bin/entrypoint.sh\"]
CMD [\"python\", \"-m\", \"worker.main\", \"--queue\", \"jobs\"]
";

#[test]
fn worker_image_environment_commands_and_copies() {
    let f = extract("docker/Dockerfile", WORKER, &models());
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let got = accesses(&f);
    assert_has(
        &got,
        &[
            "L4 set env DATA_DIR=/data @stage worker via Dockerfile ENV",
            "L4 set env QUEUE_NAME=jobs @stage worker via Dockerfile ENV",
            "L5 set env LOG_DIR=/var/log/worker @stage worker via Dockerfile ENV",
            "L7 move-to /opt/worker/requirements.txt @stage worker via Dockerfile COPY",
            "L8 move-to /opt/worker/bin (tree) @stage worker via Dockerfile COPY",
            "L9 move-to /opt/worker/worker @stage worker via Dockerfile COPY",
            "L11 create {DATA_DIR}/incoming @stage worker.RUN via mkdir",
            "L13 write /var/log/worker/ready @stage worker.RUN via touch",
            "L14 create /data @stage worker via Dockerfile VOLUME",
        ],
    );
    let mappings: Vec<String> = f
        .bindings
        .iter()
        .filter(|b| b.name.starts_with("volume:"))
        .map(|b| format!("L{} {} <- {}", b.line, b.name, render(&b.value)))
        .collect();
    assert_eq!(
        mappings,
        vec![
            "L7 volume:/opt/worker/requirements.txt <- requirements.txt",
            "L8 volume:/opt/worker/bin <- bin",
            "L9 volume:/opt/worker/worker <- worker",
        ]
    );
    let scope_of_data_dir = f
        .bindings
        .iter()
        .find(|b| b.name == "DATA_DIR")
        .map(|b| f.unit_name(b.scope));
    assert_eq!(scope_of_data_dir.as_deref(), Some("stage worker"));
    assert_has(
        &runs(&f),
        &[
            "L15 /opt/worker/bin/entrypoint.sh @stage worker.ENTRYPOINT",
            "L16 python -m worker.main @stage worker.CMD",
        ],
    );
}

#[test]
fn shell_form_exec_form_and_heredocs_keep_their_lines() {
    let text = "FROM alpine\nRUN [\"/bin/sh\", \"-c\", \"rm -rf /tmp/build\"]\nRUN <<EOF\nset -e\nrm -f /var/cache/x.db\nEOF\nWORKDIR app\nRUN ./setup.sh\nCMD run.sh --out /data/out.csv\n";
    let f = extract("Dockerfile", text, &models());
    assert_has(
        &accesses(&f),
        &[
            "L2 delete /tmp/build (tree) @stage alpine.RUN via rm",
            "L5 delete /var/cache/x.db @stage alpine.RUN via rm",
        ],
    );
    assert_has(&runs(&f), &["L8 /app/setup.sh @stage alpine.RUN"]);
}

#[test]
fn copy_from_another_stage_maps_nothing_and_garbage_is_skipped() {
    let text = "FROM golang AS build\nCOPY --from=build /src/app /usr/local/bin/app\nNOT AN INSTRUCTION\n\u{0}\u{ff}\nRUN [\"unterminated\nENV\n";
    let f = extract("x.dockerfile", text, &models());
    assert!(f.bindings.iter().all(|b| !b.name.starts_with("volume:")));
    assert_has(
        &accesses(&f),
        &["L2 move-to /usr/local/bin/app @stage build via Dockerfile COPY"],
    );
}

#[test]
fn detection() {
    for name in [
        "dockerfile",
        "containerfile",
        "dockerfile.worker",
        "worker.dockerfile",
    ] {
        assert!(is_dockerfile(name), "{name}");
    }
    assert!(!is_dockerfile("dockerfiles.md"));
}
