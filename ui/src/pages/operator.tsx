// The operator's kinds on the detail page: a ResourceSet's inputs (in line and from providers)
// and a ResourceSetInputProvider's exported inputs, deployment windows and next window. Read
// from the object itself (spec and status), as the Flux Operator's status page shows them.
import { objectPath } from "../api";
import { Code, Empty, KeyValue, Link, Section } from "../components/common";

type Obj = Record<string, unknown>;

function asList(value: unknown): Obj[] {
  return Array.isArray(value) ? (value as Obj[]) : [];
}

function short(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function InputsTable({ inputs, label }: { inputs: Obj[]; label: string }) {
  if (!inputs.length) return <Empty>No {label}.</Empty>;
  const keys = Array.from(new Set(inputs.flatMap((i) => Object.keys(i)))).sort((a, b) =>
    a === "id" ? -1 : b === "id" ? 1 : a.localeCompare(b),
  );
  return (
    <div class="table-wrap">
      <table class="rows" data-inputs={label}>
        <thead>
          <tr>{keys.map((k) => <th>{k}</th>)}</tr>
        </thead>
        <tbody>
          {inputs.map((input) => (
            <tr data-input-id={short(input.id)}>
              {keys.map((k) => (
                <td data-label={k} class={k === "sha" || k === "digest" ? "mono" : ""}>{short(input[k])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ResourceSetInputs({ object }: { object: Obj }) {
  const spec = (object.spec ?? {}) as Obj;
  const meta = (object.metadata ?? {}) as Obj;
  const namespace = String(meta.namespace ?? "");
  const refs = asList(spec.inputsFrom);
  const strategy = ((spec.inputStrategy ?? {}) as Obj).name ?? "Flatten";
  return (
    <Section title="Inputs">
      <KeyValue
        items={[
          ["Strategy", String(strategy)],
          ["In line", `${asList(spec.inputs).length} input sets`],
          [
            "From providers",
            refs.length ? (
              <ul class="plain-list">
                {refs.map((r) =>
                  r.name ? (
                    <li>
                      <Link href={objectPath(`ResourceSetInputProvider/${namespace}/${String(r.name)}`)}>
                        ResourceSetInputProvider/{namespace}/{String(r.name)}
                      </Link>
                    </li>
                  ) : (
                    <li>selector {short(r.selector)}</li>
                  ),
                )}
              </ul>
            ) : (
              "—"
            ),
          ],
          ["Service account", String(spec.serviceAccountName ?? "—")],
          ["Wait for health", spec.wait ? "yes" : "no"],
        ]}
      />
      <InputsTable inputs={asList(spec.inputs)} label="in-line inputs" />
    </Section>
  );
}

export function ProviderInputs({ object }: { object: Obj }) {
  const spec = (object.spec ?? {}) as Obj;
  const status = (object.status ?? {}) as Obj;
  const next = (status.nextSchedule ?? null) as Obj | null;
  const schedule = asList(spec.schedule);
  return (
    <>
      <Section title="Provider">
        <KeyValue
          items={[
            ["Type", String(spec.type ?? "")],
            ["URL", <span class="mono">{String(spec.url ?? "—")}</span>],
            ["Filter", spec.filter ? <Code text={JSON.stringify(spec.filter)} /> : "—"],
            ["Skip", spec.skip ? <Code text={JSON.stringify(spec.skip)} /> : "—"],
            [
              "Deployment windows",
              schedule.length ? (
                <ul class="plain-list" data-schedule="">
                  {schedule.map((s) => (
                    <li>
                      <span class="mono">{String(s.cron)}</span> {String(s.timeZone ?? "UTC")}, window{" "}
                      {String(s.window ?? "0s")}
                    </li>
                  ))}
                </ul>
              ) : (
                "always open"
              ),
            ],
            [
              "Next window",
              next ? (
                <span data-next-window={String(next.when)}>{String(next.when)}</span>
              ) : schedule.length ? (
                "open now"
              ) : (
                "—"
              ),
            ],
          ]}
        />
      </Section>
      <Section title="Exported inputs">
        <InputsTable inputs={asList(status.exportedInputs)} label="exported inputs" />
      </Section>
    </>
  );
}
