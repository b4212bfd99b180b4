use super::*;
use crate::extract::formats::testing::{accesses, assert_has, models, render, runs};

fn var(name: &str, line: u32) -> Expr {
    Expr::Var {
        name: name.into(),
        scope: 0,
        line,
        env_fallback: false,
        default: None,
    }
}

#[test]
fn jinja_cron_keeps_literal_parts_of_the_derived_name() {
    let text = "# {{ ansible_managed }}\n{% if backups_enabled %}\nMAILTO=\"\"\n0 3 * * * root /usr/bin/find /backups/{{ prefix }}-backup -mtime +14 -delete\n{% endif %}\n";
    let f = extract(
        TemplateEngine::Jinja,
        "roles/backup/templates/backup.cron.j2",
        text,
        &models(),
    );
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_eq!(f.scopes[0].name, "roles/backup/templates/backup.cron.j2");
    assert_eq!(f.schedules.len(), 1);
    let s = &f.schedules[0];
    assert_eq!((s.line, s.expression.as_str()), (4, "0 3 * * *"));
    assert_eq!(s.description, "every day at 03:00");
    assert_eq!(s.user.as_deref(), Some("root"));
    assert_eq!(
        s.command,
        "/usr/bin/find /backups/{{ prefix }}-backup -mtime +14 -delete"
    );
    let delete = f
        .accesses
        .iter()
        .find(|a| a.mode == crate::model::Mode::Delete)
        .expect("the find deletes");
    assert_eq!(delete.line, 4);
    let target = delete.resource.as_path().expect("path");
    assert_eq!(
        target.expr,
        Expr::concat(vec![
            Expr::lit("/backups/"),
            var("prefix", 4),
            Expr::lit("-backup")
        ])
    );
    assert_eq!(
        target.retention.as_deref(),
        Some("modified more than 14 days ago")
    );
}

#[test]
fn erb_ruby_interpolation_and_comments() {
    let text = "<%# managed by chef %>\n[app]\nlog_file = <%= @log_dir %>/app.log\nbackup_dir = <%= \"#{@prefix}-backup\" %>\n<% if @debug -%>\ndebug_log = /var/log/app/debug.log\n<% end -%>\n";
    let f = extract(
        TemplateEngine::Erb,
        "templates/default/app.conf.erb",
        text,
        &models(),
    );
    assert_eq!(
        accesses(&f),
        vec![
            "L3 append {log_dir}/app.log @[app] via config log_file",
            "L4 create {prefix}-backup @[app] via config backup_dir",
            "L6 append /var/log/app/debug.log @[app] via config debug_log",
        ]
    );
}

#[test]
fn helm_templates_are_kubernetes_yaml_with_values_variables() {
    let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {{ .Release.Name }}-cleanup\n  labels:\n    {{- include \"chart.labels\" . | nindent 4 }}\nspec:\n  schedule: {{ .Values.cleanup.schedule | quote }}\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: cleanup\n              image: \"{{ .Values.image }}\"\n              command: [\"sh\", \"-c\", \"find {{ .Values.logDir }} -name '*.log' -mtime +{{ .Values.days | default 7 }} -delete\"]\n              env:\n                - name: QUEUE_NAME\n                  value: {{ .Values.queue | default \"jobs\" }}\n";
    let f = extract(
        TemplateEngine::Go,
        "charts/app/templates/cleanup.yaml",
        text,
        &models(),
    );
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let got = accesses(&f);
    assert_has(
        &got,
        &[
            "L16 delete {values.logDir} find[*.log] (modified more than {{ .Values.days | default 7 }} days ago) @CronJob/{{ .Release.Name }}-cleanup.container cleanup.command via find -delete",
            "L18 set env QUEUE_NAME={values.queue:-jobs} @CronJob/{{ .Release.Name }}-cleanup.container cleanup via k8s env",
        ],
    );
    assert_eq!(f.schedules.len(), 1);
    assert_eq!(
        f.schedules[0].expression,
        "{{ .Values.cleanup.schedule | quote }}"
    );
}

#[test]
fn shell_and_python_templates_fill_placeholders() {
    let text = "#!/bin/bash\nset -e\ncd {{ app_root }}\nrm -rf ./cache/{{ env | default('prod') }}\n{# cleanup #}\ntar czf /backups/{{ name }}.tgz data\n";
    let f = extract(
        TemplateEngine::Jinja,
        "templates/cleanup.sh.j2",
        text,
        &models(),
    );
    let got = accesses(&f);
    assert_has(
        &got,
        &[
            "L4 delete {app_root}/cache/{env:-prod} (tree) @ via rm",
            "L6 write /backups/{name}.tgz @ via tar",
        ],
    );
    let py = "OUT = \"/data/{{ feed }}/latest.csv\"\nopen(OUT, 'w')\n";
    let f = extract(TemplateEngine::Jinja, "app/settings.py.j2", py, &models());
    assert_has(&accesses(&f), &["L2 write {OUT} @ via open"]);
    let out = f
        .bindings
        .iter()
        .find(|b| b.name == "OUT")
        .expect("OUT is bound");
    assert_eq!(render(&out.value), "/data/{feed}/latest.csv");
}

#[test]
fn unterminated_tags_are_warnings_and_the_rest_is_read() {
    let text = "[app]\nlog_file = {{ log_dir\nerror_log = /var/log/app/error.log\n";
    let f = extract(TemplateEngine::Jinja, "app.conf.j2", text, &models());
    assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
    assert_eq!(f.warnings[0].line, 2);
    assert_has(
        &accesses(&f),
        &["L3 append /var/log/app/error.log @[app] via config error_log"],
    );
    let f = extract(TemplateEngine::Erb, "x.sh.erb", "rm <%= @x\n", &models());
    assert_eq!(f.warnings.len(), 1);
}

#[test]
fn lines_survive_multi_line_tags_and_raw_blocks() {
    let text = "{#\n long\n comment\n#}\n{% raw %}{{ not_a_var }}{% endraw %}\nrm /tmp/{{\n  name\n}}.lock\ntouch /tmp/after\n";
    let substituted = substitute(
        text,
        Options::new(TemplateEngine::Jinja, TokenStyle::Dollar),
    );
    assert_eq!(
        substituted.text.matches('\n').count(),
        text.matches('\n').count()
    );
    assert!(substituted.text.contains("{{ not_a_var }}"));
    let f = extract(TemplateEngine::Jinja, "x.sh.j2", text, &models());
    assert_has(&accesses(&f), &["L9 write /tmp/after @ via touch"]);
    // The raw block's text is shell text `{{ not_a_var }}`: at most the name of a program no
    // manifest declares, which links nothing; never a script or module.
    assert!(
        runs(&f).iter().all(|r| r.contains("program not_a_var")),
        "{:?}",
        runs(&f)
    );
}

#[test]
fn expressions_translate_to_variables_defaults_and_holes() {
    let cases = [
        ("prefix", Syntax::Jinja, "{prefix}"),
        ("cfg.dir", Syntax::Jinja, "{cfg.dir}"),
        ("cfg['dir']", Syntax::Jinja, "{cfg.dir}"),
        ("dir | default('/srv')", Syntax::Jinja, "{dir:-/srv}"),
        ("base ~ '/x'", Syntax::Jinja, "{base}/x"),
        ("items | join(',')", Syntax::Jinja, "<items | join(',')>"),
        ("'literal'", Syntax::Jinja, "literal"),
        ("@prefix", Syntax::Erb, "{prefix}"),
        ("\"#{@prefix}-backup\"", Syntax::Erb, "{prefix}-backup"),
        (".Values.a.b", Syntax::Go, "{values.a.b}"),
        ("$.Values.a", Syntax::Go, "{values.a}"),
        ("default \"x\" .Values.a", Syntax::Go, "{values.a:-x}"),
        (
            "printf \"%s-%s\" .Values.a .Values.b",
            Syntax::Go,
            "{values.a}-{values.b}",
        ),
        (".Release.Name", Syntax::Go, "<.Release.Name>"),
        ("secrets.TOKEN", Syntax::Github, "<secrets.TOKEN>"),
        ("env.QUEUE", Syntax::Github, "$QUEUE"),
    ];
    for (text, syntax, expected) in cases {
        assert_eq!(
            render(&expression_expr(text, syntax, 0, 1)),
            expected,
            "{text}"
        );
    }
}

#[test]
fn tokens_are_found_and_converted() {
    assert_eq!(
        find_tokens("a${__tmpl_3}b__tmpl_12__c"),
        vec![(1, 12, 3), (13, 24, 12)]
    );
    assert_eq!(find_tokens("__tmpl_x __tmpl_"), vec![]);
    assert_eq!(bare_tokens_to_shell("rm __tmpl_0__/x"), "rm ${__tmpl_0}/x");
    assert_eq!(strip_template_extension("a/b.cron.j2"), "a/b.cron");
    assert_eq!(
        strip_template_extension("templates/deploy.yaml"),
        "templates/deploy.yaml"
    );
}

#[test]
fn binary_and_huge_templates_do_not_panic() {
    let binary =
        String::from_utf8_lossy(&[b'{', b'{', 0xff, b'}', b'}', 0, b'{', b'%']).to_string();
    let _ = extract(TemplateEngine::Jinja, "x.conf.j2", &binary, &models());
    let many = "{{ x }}".repeat(20_000);
    let f = extract(TemplateEngine::Jinja, "x.conf.j2", &many, &models());
    assert!(f.accesses.is_empty());
}

#[test]
fn many_unterminated_tags_stay_linear() {
    let text = "{{ x\n".repeat(50_000);
    let substituted = substitute(
        &text,
        Options::new(TemplateEngine::Jinja, TokenStyle::Dollar),
    );
    assert_eq!(substituted.warnings.len(), MAX_WARNINGS);
    assert_eq!(substituted.text.matches('\n').count(), 50_000);
}

#[test]
fn what_only_rendering_decides_is_not_a_warning() {
    // A line written by expressions only, and a schedule from a variable.
    let cron = "{{ '{}={}'.format(key, value) }}\n{{ minute }} 3 * * * root /usr/bin/true\n";
    let f = extract(TemplateEngine::Jinja, "etc/cron.d/x.j2", cron, &models());
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let env = "{{ name }}={{ value }}\nLEVEL=2\n";
    let f = extract(TemplateEngine::Jinja, "etc/default/app.j2", env, &models());
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    // Blocks make text that need not parse (a Python list with `{% if %}` items).
    let py = "urls = [\n    a,\n    {% if b %}\n    b,\n    {% endif %}\n]\n";
    let f = extract(TemplateEngine::Jinja, "templates/urls.py.j2", py, &models());
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    // A real defect of the template itself is still reported.
    let f = extract(TemplateEngine::Jinja, "x.conf.j2", "a = {{ b\n", &models());
    assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
}

/// frep/tpl/dockerize templates are named for what they render to and read `.Env.X`.
#[test]
fn go_env_templates_are_sniffed_and_read_the_environment() {
    let conf = "server {\n  access_log /var/log/nginx/{{ .Env.SITE | default \"meet\" }}.log;\n}\n";
    assert_eq!(
        crate::extract::formats::detect_template("web/rootfs/defaults/meet.conf", conf.as_bytes()),
        Some(ConfigFormat::Template(TemplateEngine::Go))
    );
    let f = extract(
        TemplateEngine::Go,
        "web/rootfs/defaults/meet.conf",
        conf,
        &models(),
    );
    let reads: Vec<(u32, String)> = f
        .accesses
        .iter()
        .filter_map(|a| match &a.resource {
            crate::extract::RawResource::Env(t) => Some((
                a.line,
                format!(
                    "{:?}={:?}",
                    t.name.as_lit(),
                    t.value.as_ref().and_then(Expr::as_lit)
                ),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        reads,
        vec![(2, "Some(\"SITE\")=Some(\"meet\")".to_string())]
    );
    // The log path is built from the environment, with the tag's default.
    let log = f
        .accesses
        .iter()
        .find_map(|a| a.resource.as_path())
        .expect("the access_log path");
    assert_eq!(
        render(&log.expr),
        render(&Expr::concat(vec![
            Expr::lit("/var/log/nginx/"),
            Expr::Env {
                name: "SITE".into(),
                default: Some(Box::new(Expr::lit("meet"))),
            },
            Expr::lit(".log"),
        ]))
    );
    // A read in a control tag, with no default, and a script in an unknown format still reads.
    let lua = "{{ if .Env.ENABLE_JWT | default \"0\" | toBool }}\nauth = \"{{ .Env.AUTH_URL }}\"\n{{ end }}\n";
    let f = extract(
        TemplateEngine::Go,
        "conf.d/site.cfg.unknownext",
        lua,
        &models(),
    );
    let names: Vec<(u32, Option<&str>, bool)> = f
        .accesses
        .iter()
        .filter_map(|a| match &a.resource {
            crate::extract::RawResource::Env(t) => {
                Some((a.line, t.name.as_lit(), t.value.is_none()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        vec![(1, Some("ENABLE_JWT"), false), (2, Some("AUTH_URL"), true)]
    );
}

#[test]
fn files_with_other_braces_are_not_go_env_templates() {
    for text in [
        "{{ .Values.image }}\n",
        "name: {{ app_name }}\n",
        "const x = {{a: 1}};\n",
        "echo '{{' .Env.X\n",
    ] {
        assert!(!looks_like_go_env_template(text.as_bytes()), "{text}");
    }
}

/// The substituted text with each placeholder shown as `[its expression]`.
fn rendered(engine: TemplateEngine, text: &str) -> String {
    let s = substitute(text, Options::new(engine, TokenStyle::Dollar));
    let mut out = s.text.clone();
    for (start, end, index) in find_tokens(&s.text).into_iter().rev() {
        let shown = format!("[{}]", render(&s.placeholders[index].expr));
        out.replace_range(start..end, &shown);
    }
    out
}

#[test]
fn jinja_loop_over_a_literal_list_is_any_element_and_ends_with_the_loop() {
    let text = "{% for q in ['orders', 'mail'] %}\n/var/log/{{ q }}.log {\n  daily\n}\n{% endfor %}\n/var/log/{{ q }}-after.log\n";
    let out = rendered(TemplateEngine::Jinja, text);
    assert_eq!(
        out,
        "\n/var/log/[(orders|mail)].log {\n  daily\n}\n\n/var/log/[{q:-()}]-after.log\n"
    );
    // Tuples, filters that keep the elements, a condition, `loop.index` unknown.
    let text = "{% for q in ('a', \"b\") | sort if q != 'c' %}{{ q }}:{{ loop.index }}{% endfor %}";
    assert_eq!(
        rendered(TemplateEngine::Jinja, text),
        "[(a|b)]:[<loop.index>]"
    );
    // One element: the literal itself.
    assert_eq!(
        rendered(
            TemplateEngine::Jinja,
            "{% for q in ['orders'] %}/x/{{ q }}{% endfor %}"
        ),
        "/x/orders"
    );
    // A filter that changes the elements, a call, a range: unknown.
    for iterable in [
        "['a', 'b'] | map('upper')",
        "range(3)",
        "lookup('file', 'x')",
    ] {
        let text = format!("{{% for q in {iterable} %}}/x/{{{{ q }}}}{{% endfor %}}");
        assert_eq!(
            rendered(TemplateEngine::Jinja, &text),
            "/x/[<q>]",
            "{iterable}"
        );
    }
}

#[test]
fn jinja_loop_over_a_variable_is_any_element_of_its_list() {
    let text = "{% for q in worker_queues | default([]) %}/var/spool/{{ q }}{% endfor %}|{% for s in servers %}{{ s.name }}/{{ s['dir'] }}{% endfor %}";
    assert_eq!(
        rendered(TemplateEngine::Jinja, text),
        "/var/spool/[{worker_queues.*:-()}]|[{servers.*.name:-()}]/[{servers.*.dir:-()}]"
    );
    // `items()` of a dict written elsewhere: not followed.
    let text = "{% for k, v in paths.items() %}{{ k }}={{ v }}{% endfor %}";
    assert_eq!(rendered(TemplateEngine::Jinja, text), "[<k>]=[<v>]");
}

#[test]
fn jinja_loops_over_literal_dicts_records_and_nested_lists() {
    let text = "{% for s in [{'name': 'orders', 'dir': '/srv/o'}, {'name': 'mail', 'dir': '/srv/m'}] %}{{ s.dir }}/{{ s.name }}.log {{ s.owner }}{% endfor %}";
    assert_eq!(
        rendered(TemplateEngine::Jinja, text),
        "[(/srv/o|/srv/m)]/[(orders|mail)].log [<s.owner>]"
    );
    let text = "{% for k, v in {'orders': '/srv/o', 'mail': '/srv/m'}.items() %}{{ v }}/{{ k }}{% endfor %}";
    assert_eq!(
        rendered(TemplateEngine::Jinja, text),
        "[(/srv/o|/srv/m)]/[(orders|mail)]"
    );
    let text = "{% for e in {'a': '1'} | dict2items %}{{ e.key }}={{ e.value }}{% endfor %}";
    assert_eq!(rendered(TemplateEngine::Jinja, text), "a=1");
    let text = "{% for env in ['prod', 'dev'] %}{% for q in ['orders', 'mail'] %}/srv/{{ env }}/{{ q }}{% endfor %}{{ q }}{% endfor %}";
    assert_eq!(
        rendered(TemplateEngine::Jinja, text),
        "/srv/[(prod|dev)]/[(orders|mail)][{q:-()}]"
    );
    let text =
        "{% for group in [['a', 'b'], ['c']] %}{% for q in group %}{{ q }}{% endfor %}{% endfor %}";
    assert_eq!(rendered(TemplateEngine::Jinja, text), "[(a|b|c)]");
}

#[test]
fn jinja_set_binds_for_the_rest_of_the_template() {
    let text = "{% set log_dir = '/var/log/app' %}{% set name = prefix ~ '-worker' %}{{ log_dir }}/{{ name }}.log";
    assert_eq!(
        rendered(TemplateEngine::Jinja, text),
        "/var/log/app/[{prefix}-worker].log"
    );
    // A set in a loop ends with the loop (Jinja scoping); a set in an `if` may or may not
    // have happened.
    let text = "{% for q in ['a'] %}{% set d = '/x' %}{{ d }}{% endfor %}{{ d }}|{% if big %}{% set e = '/big' %}{% endif %}{{ e }}|{% if big %}{% set f = '/1' %}{% else %}{% set f = '/2' %}{% endif %}{{ f }}";
    assert_eq!(
        rendered(TemplateEngine::Jinja, text),
        "/x[{d:-()}]|[(/big|{e})]|[(/1|/2)]"
    );
    // A captured block, unpacking, a macro's parameters: not followed.
    let text = "{% set body %}x{% endset %}{{ body }}{% set a, b = pair %}{{ a }}{% macro conf(dir='/d') %}{{ dir }}/x{% endmacro %}{{ dir }}";
    assert_eq!(
        rendered(TemplateEngine::Jinja, text),
        "x[<body>][<a>][<dir>]/x[{dir:-()}]"
    );
    let text = "{% with d = '/srv' %}{{ d }}{% endwith %}{{ d }}";
    assert_eq!(rendered(TemplateEngine::Jinja, text), "/srv[{d:-()}]");
}

#[test]
fn erb_loops_and_assignments() {
    let text = "<% %w[orders mail].each do |q| -%>\n/var/log/<%= q %>.log\n<% end -%>\n<%= q %>\n";
    assert_eq!(
        rendered(TemplateEngine::Erb, text),
        "\n/var/log/[(orders|mail)].log\n\n[{q:-()}]\n"
    );
    let text = "<% ['a', 'b'].sort.each do |q| %><%= q %><% end %>|<% @queues.each_with_index do |q, i| %><%= q %><%= i %><% end %>|<% { 'a' => '/x' }.each do |k, v| %><%= v %>/<%= k %><% end %>";
    assert_eq!(
        rendered(TemplateEngine::Erb, text),
        "[(a|b)]|[{queues.*:-()}][<i>]|/x/a"
    );
    let text = "<% dir = '/srv/app' %><%= dir %>/x <% @name = \"#{@prefix}-log\" %><%= @name %> <% if big %><% dir = '/big' %><% end %><%= dir %> <% n += 1 %><%= n %>";
    assert_eq!(
        rendered(TemplateEngine::Erb, text),
        "/srv/app/x [{prefix}-log] [(/big|/srv/app)] [<n>]"
    );
    // A block of another method, a receiver not written literally.
    let text = "<% 3.times do |i| %><%= i %><% end %><% (1..3).each do |i| %><%= i %><% end %>";
    assert_eq!(rendered(TemplateEngine::Erb, text), "[<i>][<i>]");
}

#[test]
fn go_range_with_and_variables() {
    let text = "{{- range .Values.queues }}\n/var/log/{{ . }}.log\n{{- end }}\n{{ range $q := .Values.workers }}{{ $q.name }}:{{ .dir }}:{{ $.Values.root }}{{ end }}";
    assert_eq!(
        rendered(TemplateEngine::Go, text),
        "\n/var/log/[{values.queues.*:-()}].log\n\n[{values.workers.*.name:-()}]:[{values.workers.*.dir:-()}]:[{values.root}]"
    );
    let text = "{{ range $i, $q := list \"orders\" \"mail\" }}{{ $q }}-{{ $i }}{{ end }}{{ $q }}";
    assert_eq!(
        rendered(TemplateEngine::Go, text),
        "[(orders|mail)]-[<$i>][()]"
    );
    let text = "{{ $name := \"app\" }}{{- $log := printf \"%s-log\" .Values.a }}{{ $name }}/{{ $log }}{{ with .Values.paths }}{{ .out }}{{ else }}{{ .Values.out }}{{ end }}";
    assert_eq!(
        rendered(TemplateEngine::Go, text),
        "app/[{values.a}-log][{values.paths.out}][{values.out}]"
    );
    // `$x = ` in a block: either value afterwards; an index over a map, unknown.
    let text = "{{ $d := \"/a\" }}{{ if .Values.big }}{{ $d = \"/b\" }}{{ end }}{{ $d }}{{ range $k, $v := .Values.m }}{{ $k }}{{ end }}";
    assert_eq!(rendered(TemplateEngine::Go, text), "[(/b|/a)][<$k>]");
}

#[test]
fn template_loops_keep_lines_and_fill_facts() {
    let text = "# {{ ansible_managed }}\n{% for q in ['orders', 'mail'] %}\n/var/log/{{ q }}.log {\n    daily\n    rotate 7\n}\n{% endfor %}\n";
    let f = extract(
        TemplateEngine::Jinja,
        "roles/logs/templates/queues.logrotate.j2",
        text,
        &models(),
    );
    let got = accesses(&f);
    assert!(
        got.iter()
            .any(|a| a.starts_with("L3 ") && a.contains("/var/log/(orders|mail).log")),
        "{got:?}"
    );
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n{{- range .Values.queues }}\n  {{ .name }}.conf: |\n    spool = /var/spool/{{ .name }}\n{{- end }}\n";
    let f = extract(
        TemplateEngine::Go,
        "charts/w/templates/cm.yaml",
        text,
        &models(),
    );
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

#[test]
fn deep_and_long_loops_stay_bounded() {
    let mut text = String::new();
    for _ in 0..200 {
        text.push_str("{% for q in ['a', 'b'] %}");
    }
    text.push_str("{{ q }}");
    for _ in 0..200 {
        text.push_str("{% endfor %}");
    }
    text.push_str("{{ q }}");
    assert_eq!(rendered(TemplateEngine::Jinja, &text), "[<q>][{q:-()}]");
    let long: Vec<String> = (0..100).map(|i| format!("'q{i}'")).collect();
    let text = format!(
        "{{% for q in [{}] %}}{{{{ q }}}}{{% endfor %}}",
        long.join(", ")
    );
    assert_eq!(rendered(TemplateEngine::Jinja, &text), "[<q>]");
}
