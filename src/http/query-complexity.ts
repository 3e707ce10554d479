import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  valueFromAST,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

/**
 * How much a GraphQL document asks for, measured on the document alone (before it is
 * validated or run), so that a refusal costs a parse and one walk:
 *
 * - `aliases`, `fields`: aliased fields and field selections as written, in the whole
 *   document (what parsing and validation have to chew through).
 * - `depth`: nested field levels of the operation, through its fragments. Introspection's
 *   `ofType` does not add a level: it unwraps one type reference and the standard
 *   introspection query nests it seven times.
 * - `cost`: the field resolutions the operation may need, at most. A list field
 *   multiplies what it selects by its `first` argument; a connection (a field with
 *   `first` that returns an object, e.g. `deliveries(first: 50) { nodes { … } }`) hands
 *   its `first` to the lists directly inside it; any other list counts `list` items.
 *   `@skip` / `@include` are ignored, so the figure errs on the high side.
 * - `introspectionCost`: the same inside `__schema` / `__type`, apart, with each
 *   introspection list as long as it can be in this schema.
 *
 * Fragments are measured once each, so a document that spreads a fragment two ways at
 * every level costs this walk nothing and still gets an honest (huge) figure.
 */
export type ComplexityMeasure = "depth" | "aliases" | "fields" | "cost" | "introspection_cost";

export interface SelectionCounts {
  aliases: number;
  fields: number;
  /** It selects `__schema` or `__type` somewhere. */
  introspection: boolean;
}

const PAGE_ARGUMENT = "first";
const INTROSPECTION_FIELDS = new Set(["__schema", "__type"]);
const TYPE_UNWRAP_FIELD = "ofType";

/** Counts over every definition of the document, as written. */
export function countSelections(document: DocumentNode): SelectionCounts {
  let aliases = 0;
  let fields = 0;
  let introspection = false;
  const walk = (selectionSet: SelectionSetNode | undefined): void => {
    if (!selectionSet) return;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        fields += 1;
        if (selection.alias) aliases += 1;
        if (INTROSPECTION_FIELDS.has(selection.name.value)) introspection = true;
        walk(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet);
      }
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition.selectionSet);
  }
  return { aliases, fields, introspection };
}

export interface ListSizes {
  /** Assumed length of a list without a `first` argument. */
  readonly list: number;
  /** Assumed page of a field that takes `first` when the request leaves it out and the schema states no default. */
  readonly page: number;
}

export interface OperationShape {
  depth: number;
  /** Field resolutions on the hub's own types. */
  cost: number;
  /** Field resolutions inside `__schema` / `__type`: in memory, bounded by the schema, counted apart. */
  introspectionCost: number;
}

const EMPTY: OperationShape = { depth: 0, cost: 0, introspectionCost: 0 };

/** Depth and costs of one operation, following its fragment spreads. */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  listSizes: ListSizes,
): OperationShape {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variableValues = withVariableDefaults(operation, variables);
  const introspectionSizes = introspectionListSizes(schema);
  const measured = new Map<string, OperationShape>();
  const inProgress = new Set<string>();

  const fragmentShape = (name: string): OperationShape => {
    const known = measured.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    // Unknown or cyclic spreads are validation errors; measuring them as empty keeps this walk finite.
    if (!fragment || inProgress.has(name)) return EMPTY;
    inProgress.add(name);
    const shape = selectionShape(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), undefined);
    inProgress.delete(name);
    measured.set(name, shape);
    return shape;
  };

  /** One pass of `selectionSet` over one parent object; `page` is a connection's `first` for the lists inside it. */
  const selectionShape = (selectionSet: SelectionSetNode, parentType: GraphQLNamedType | undefined, page: number | undefined): OperationShape => {
    const total = { ...EMPTY };
    for (const selection of selectionSet.selections) {
      let shape: OperationShape;
      if (selection.kind === Kind.FIELD) shape = fieldShape(selection, parentType, page);
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
        shape = selectionShape(selection.selectionSet, type, page);
      } else shape = fragmentShape(selection.name.value);
      total.depth = Math.max(total.depth, shape.depth);
      total.cost += shape.cost;
      total.introspectionCost += shape.introspectionCost;
    }
    return total;
  };

  const fieldShape = (node: FieldNode, parentType: GraphQLNamedType | undefined, page: number | undefined): OperationShape => {
    // Introspection's own types only hang below __schema / __type; all of it is counted apart.
    const introspecting = INTROSPECTION_FIELDS.has(node.name.value) || (parentType?.name.startsWith("__") ?? false);
    if (!node.selectionSet) return introspecting ? { depth: 1, cost: 0, introspectionCost: 1 } : { depth: 1, cost: 1, introspectionCost: 0 };
    const field = fieldDefinition(schema, parentType, node.name.value);
    const childType = field ? getNamedType(field.type) : undefined;
    const ownPage = field ? pageArgument(field, node, variableValues, listSizes.page) : undefined;
    const isList = field ? isListType(getNullableType(field.type)) : false;
    const assumedLength = introspecting ? (introspectionSizes.get(`${parentType?.name}.${node.name.value}`) ?? listSizes.list) : listSizes.list;
    const multiplier = isList ? (ownPage ?? page ?? assumedLength) : 1;
    const children = selectionShape(node.selectionSet, childType, isList ? undefined : ownPage);
    const depth = children.depth + (introspecting && node.name.value === TYPE_UNWRAP_FIELD ? 0 : 1);
    if (introspecting) return { depth, cost: 0, introspectionCost: 1 + multiplier * (children.cost + children.introspectionCost) };
    return { depth, cost: 1 + multiplier * children.cost, introspectionCost: multiplier * children.introspectionCost };
  };

  const root = schema.getRootType(operation.operation) ?? undefined;
  return selectionShape(operation.selectionSet, root, undefined);
}

const introspectionSizesOf = new WeakMap<GraphQLSchema, Map<string, number>>();

/**
 * The longest each introspection list can be in this schema (types, a type's fields,
 * a field's arguments, …), so introspection is estimated with real sizes: its nesting,
 * not its length, is what can explode.
 */
export function introspectionListSizes(schema: GraphQLSchema): Map<string, number> {
  const known = introspectionSizesOf.get(schema);
  if (known) return known;
  const types = Object.values(schema.getTypeMap());
  const longest = (lengths: number[]): number => Math.max(1, ...lengths);
  const withFields = types.filter((type) => isObjectType(type) || isInterfaceType(type));
  const directives = schema.getDirectives();
  const sizes = new Map<string, number>([
    ["__Schema.types", types.length],
    ["__Schema.directives", directives.length],
    ["__Type.fields", longest(withFields.map((type) => Object.keys(type.getFields()).length))],
    ["__Type.interfaces", longest(withFields.map((type) => type.getInterfaces().length))],
    ["__Type.possibleTypes", longest(types.filter(isAbstractType).map((type) => schema.getPossibleTypes(type).length))],
    ["__Type.enumValues", longest(types.filter(isEnumType).map((type) => type.getValues().length))],
    ["__Type.inputFields", longest(types.filter(isInputObjectType).map((type) => Object.keys(type.getFields()).length))],
    ["__Field.args", longest(withFields.flatMap((type) => Object.values(type.getFields()).map((field) => field.args.length)))],
    ["__Directive.args", longest(directives.map((directive) => directive.args.length))],
  ]);
  introspectionSizesOf.set(schema, sizes);
  return sizes;
}

function fieldDefinition(schema: GraphQLSchema, parentType: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  if (parentType === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  if (!parentType || !isCompositeType(parentType) || !("getFields" in parentType)) return undefined;
  return parentType.getFields()[name];
}

/**
 * The field's `first`: as sent (literal or variable), else the schema's default, else
 * `assumed`; undefined for fields without one. A value that is not a count (coercion will
 * refuse it) also counts as `assumed`.
 */
function pageArgument(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>, assumed: number): number | undefined {
  const definition = field.args.find((arg) => arg.name === PAGE_ARGUMENT);
  if (!definition) return undefined;
  const given = node.arguments?.find((arg) => arg.name.value === PAGE_ARGUMENT);
  let value: unknown = given ? valueFromAST(given.value, definition.type, variables) : undefined;
  if (value === undefined || value === null) value = definition.defaultValue;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : assumed;
}

/** The request's variables, with the operation's defaults for those it did not send. */
function withVariableDefaults(operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> | null | undefined): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (variables && Object.prototype.hasOwnProperty.call(variables, name)) values[name] = variables[name];
    else if (definition.defaultValue) values[name] = valueFromASTUntyped(definition.defaultValue);
  }
  return values;
}
