import {
  type FieldNode,
  GraphQLIncludeDirective,
  type GraphQLResolveInfo,
  GraphQLSkipDirective,
  getDirectiveValues,
  Kind,
  type SelectionSetNode,
} from 'graphql';

// A sessions query's values are chosen by its selection set, as Sentry's are by `field=`. The
// resolver reads which value fields `groups { totals series }` asks for before it runs SQL:
// statements it does not need are never sent, and combinations Sentry refuses are refused.

export interface SessionsSelection {
  /** Value fields under `groups { totals { … } }`. */
  totals: ReadonlySet<string>;
  /** Value fields under `groups { series { … } }`. */
  series: ReadonlySet<string>;
}

/** Fields of a selection set, through fragments, leaving out those @skip/@include drop. */
function fieldsOf(
  set: SelectionSetNode | undefined,
  info: GraphQLResolveInfo,
  seen: Set<string> = new Set(),
): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const node of set?.selections ?? []) {
    const skip = getDirectiveValues(GraphQLSkipDirective, node, info.variableValues);
    const include = getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues);
    if (skip?.if === true || include?.if === false) continue;
    if (node.kind === Kind.FIELD) {
      fields.push(node);
    } else if (node.kind === Kind.INLINE_FRAGMENT) {
      fields.push(...fieldsOf(node.selectionSet, info, seen));
    } else {
      const name = node.name.value;
      const fragment = info.fragments[name];
      if (!fragment || seen.has(name)) continue;
      seen.add(name);
      fields.push(...fieldsOf(fragment.selectionSet, info, seen));
    }
  }
  return fields;
}

function childFields(nodes: FieldNode[], name: string, info: GraphQLResolveInfo): FieldNode[] {
  return nodes.filter((n) => n.name.value === name).flatMap((n) => fieldsOf(n.selectionSet, info));
}

/** The value fields a `sessions` field (of type SessionsResult) selects. */
export function sessionsSelection(info: GraphQLResolveInfo): SessionsSelection {
  const result = info.fieldNodes.flatMap((n) => fieldsOf(n.selectionSet, info));
  const groups = childFields(result, 'groups', info);
  const names = (nodes: FieldNode[]) =>
    new Set(nodes.map((n) => n.name.value).filter((name) => !name.startsWith('__')));
  return {
    totals: names(childFields(groups, 'totals', info)),
    series: names(childFields(groups, 'series', info)),
  };
}
